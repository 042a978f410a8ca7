package rules

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// What a file is able to do, read from its calls. Rules use these to tell
// a string that is only named (help text, a table of API routes) from one
// the file acts on.

// runsPrograms: the file calls child_process.
func runsPrograms(f *facts.FileFacts) bool {
	for i := range f.JS.Calls {
		if execMethod(&f.JS.Calls[i]) != "" {
			return true
		}
	}
	return false
}

// writesFiles: the file writes files through fs (or fs/promises,
// fs-extra, graceful-fs), or through a local the evaluator cannot name
// (~fs.writeFileSync).
func writesFiles(f *facts.FileFacts) bool {
	for i := range f.JS.Calls {
		c := f.JS.Calls[i].Callee
		j := strings.LastIndexByte(c, '.')
		if j < 0 {
			continue
		}
		switch c[j+1:] {
		case "writeFile", "writeFileSync", "outputFile", "outputFileSync", "writeJson", "writeJsonSync",
			"outputJson", "outputJsonSync", "createWriteStream", "appendFile", "appendFileSync":
			return true
		}
	}
	return false
}

// fetchesWithConstantURL: the file opens a connection to a URL or host
// written into it (http/https/net/tls, fetch, WebSocket).
func fetchesWithConstantURL(f *facts.FileFacts) bool {
	for i := range f.JS.Calls {
		c := &f.JS.Calls[i]
		if _, ok := netCall(c); ok && c.Arg(0).Kind == js.KindString && !localHost(hostOf(c.Arg(0).Str)) {
			return true
		}
	}
	return false
}

// posAt turns a byte offset of data into a position.
func posAt(data []byte, off int) js.Pos {
	if off < 0 || off > len(data) {
		return js.Pos{}
	}
	line := bytes.Count(data[:off], []byte{'\n'}) + 1
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return js.Pos{Offset: off, Line: line, Col: off - start + 1}
}

// textFiles calls fn for every JavaScript file and shell script, with the
// strings it holds: a JavaScript file's string facts, a script's lines.
func textFiles(p *facts.Package, fn func(f *facts.FileFacts, strs []js.String)) {
	for i := range p.Files {
		f := &p.Files[i]
		switch {
		case f.JS != nil:
			fn(f, f.JS.Strings)
		case f.Kind == facts.KindScript:
			fn(f, scriptLines(f.Data))
		}
	}
}

// scriptLines are a shell script's non-comment lines as strings.
func scriptLines(data []byte) []js.String {
	var out []js.String
	off := 0
	for line := 1; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		text := strings.TrimSpace(string(data[off : off+end]))
		if text != "" && !strings.HasPrefix(text, "#") && !strings.HasPrefix(text, "REM ") && !strings.HasPrefix(text, "::") {
			out = append(out, js.String{Value: text, Len: len(text), Pos: js.Pos{Offset: off, Line: line, Col: 1}})
		}
		off += end + 1
	}
	return out
}

// wormSeverity: a worm step in a file an install script runs is never
// release tooling — critical, and high for the weak signals (a token's
// name, whoami, a version bump) that alone only hint at it.
func wormSeverity(sev Severity, f *facts.FileFacts) Severity {
	switch {
	case !f.InstallTime:
		return sev
	case sev.Rank() <= Low.Rank():
		return High
	}
	return Critical
}

func installNote(f *facts.FileFacts) string {
	if f.InstallTime {
		return " in a file run at install time"
	}
	return ""
}
