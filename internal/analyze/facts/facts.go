// Package facts extracts, once per package, everything Vigil's analysis
// rules look at: the manifest (scripts, dependencies, bin, main), each
// file's shape (kind, binary format, line lengths, entropy, invisible
// characters) and, for JavaScript, the facts of package js. Rules are
// pure functions of a *Package; nothing here judges.
package facts

import (
	"bytes"
	"context"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// File is one file of a package, as read from a tarball or a folder.
type File struct {
	// Path is relative to the package root, slash-separated.
	Path string
	Mode fs.FileMode
	Data []byte
}

// Kind classifies a file.
type Kind string

const (
	KindJS     Kind = "javascript"
	KindTS     Kind = "typescript" // .ts/.tsx/.mts/.cts: runs after a build step, parsed best effort
	KindJSON   Kind = "json"
	KindScript Kind = "script" // shell, PowerShell, batch, Python
	KindBinary Kind = "binary"
	KindText   Kind = "text"
)

// Package is everything known about one package version.
type Package struct {
	Manifest Manifest
	// Registry is the version's manifest as the registry's packument
	// serves it, when known (nil otherwise): what npm resolves
	// dependencies from and what most scanners read, while npm runs the
	// tarball's package.json (Manifest). Set by the caller.
	Registry *Manifest
	Files    []FileFacts
}

// FileFacts are the facts of one file.
type FileFacts struct {
	Path string
	Size int
	Mode fs.FileMode
	Kind Kind
	// Binary names the executable or archive format found by magic number:
	// "elf", "pe", "macho", "wasm", "java-class", "zip", "gzip".
	Binary string
	Text   *Text
	JS     *js.Facts
	// Data is the file's contents, for evidence excerpts.
	Data []byte
	// InstallTime marks files a lifecycle script runs, and files they
	// require, transitively.
	InstallTime bool
}

// File returns the facts of the file at p.
func (p *Package) File(name string) *FileFacts {
	i := sort.Search(len(p.Files), func(i int) bool { return p.Files[i].Path >= name })
	if i < len(p.Files) && p.Files[i].Path == name {
		return &p.Files[i]
	}
	return nil
}

// Options bound extraction.
type Options struct {
	JS js.Options
	// Workers is the number of files read concurrently (default
	// GOMAXPROCS).
	Workers int
}

// Extract computes the facts of a package's files. It returns an error
// only when ctx is done.
func Extract(ctx context.Context, files []File, opt Options) (*Package, error) {
	p := &Package{Files: make([]FileFacts, len(files))}
	for i, f := range files {
		p.Files[i] = FileFacts{Path: f.Path, Size: len(f.Data), Mode: f.Mode, Data: f.Data}
	}
	sort.SliceStable(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	if f := p.File("package.json"); f != nil {
		p.Manifest = parseManifest(f.Data)
	}
	if p.File("binding.gyp") != nil {
		p.Manifest.Gypfile = true
	}
	if p.Manifest.Gypfile {
		// npm runs node-gyp rebuild for a binding.gyp when the package
		// sets neither install nor preinstall.
		_, inst := p.Manifest.Script("install")
		_, pre := p.Manifest.Script("preinstall")
		if !inst && !pre {
			p.Manifest.Scripts = append(p.Manifest.Scripts, Script{Name: "install", Command: "node-gyp rebuild", Implicit: true})
		}
	}
	entries := entrypoints(p)

	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fileFacts(ctx, &p.Files[i], entries, opt); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	// Largest first, so one big bundle does not finish last alone.
	order := make([]int, len(p.Files))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p.Files[order[a]].Size > p.Files[order[b]].Size })
	for _, i := range order {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return p, err
	}
	if firstErr != nil {
		return p, firstErr
	}
	markInstallTime(p)
	return p, nil
}

func fileFacts(ctx context.Context, f *FileFacts, entries map[string]bool, opt Options) error {
	f.Binary = magic(f.Data)
	f.Kind = kindOf(f.Path, f.Data, f.Binary, entries[f.Path])
	switch f.Kind {
	case KindJS, KindTS, KindScript:
		f.Text = scanText(f.Data)
	}
	if f.Kind == KindJS || f.Kind == KindTS {
		jf, err := js.Extract(ctx, f.Data, opt.JS)
		f.JS = jf
		return err
	}
	return nil
}

func kindOf(p string, data []byte, binary string, entry bool) Kind {
	if binary != "" {
		return KindBinary
	}
	name := strings.ToLower(path.Base(p))
	switch {
	case strings.HasSuffix(name, ".d.ts"), strings.HasSuffix(name, ".d.mts"), strings.HasSuffix(name, ".d.cts"):
		return KindText // type declarations never run
	case strings.HasSuffix(name, ".map"):
		return KindJSON
	}
	switch path.Ext(name) {
	case ".js", ".cjs", ".mjs", ".jsx":
		return KindJS
	case ".ts", ".tsx", ".mts", ".cts":
		return KindTS
	case ".json":
		return KindJSON
	case ".sh", ".bash", ".zsh", ".ps1", ".bat", ".cmd", ".py":
		return KindScript
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		first, _, _ := bytes.Cut(data, []byte("\n"))
		if bytes.Contains(first, []byte("node")) || bytes.Contains(first, []byte("bun")) || bytes.Contains(first, []byte("deno")) {
			return KindJS
		}
		return KindScript
	}
	if entry && path.Ext(name) == "" {
		return KindJS // a bin or main without extension
	}
	return KindText
}

// magic recognises executable and archive formats by their first bytes.
func magic(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return "elf"
	case bytes.HasPrefix(b, []byte("\x00asm")):
		return "wasm"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "zip"
	case bytes.HasPrefix(b, []byte("\x1f\x8b")):
		return "gzip"
	case len(b) >= 4 && (bytes.HasPrefix(b, []byte{0xfe, 0xed, 0xfa, 0xce}) || bytes.HasPrefix(b, []byte{0xfe, 0xed, 0xfa, 0xcf}) ||
		bytes.HasPrefix(b, []byte{0xce, 0xfa, 0xed, 0xfe}) || bytes.HasPrefix(b, []byte{0xcf, 0xfa, 0xed, 0xfe})):
		return "macho"
	case len(b) >= 8 && bytes.HasPrefix(b, []byte{0xca, 0xfe, 0xba, 0xbe}):
		// Universal Mach-O and Java classes share the magic: a fat header
		// holds a small architecture count where a class holds its version.
		if n := int(b[4])<<24 | int(b[5])<<16 | int(b[6])<<8 | int(b[7]); n > 0 && n < 32 {
			return "macho"
		}
		return "java-class"
	case len(b) >= 64 && b[0] == 'M' && b[1] == 'Z':
		off := int(b[60]) | int(b[61])<<8 | int(b[62])<<16 | int(b[63])<<24
		if off > 0 && off+4 <= len(b) && bytes.Equal(b[off:off+4], []byte("PE\x00\x00")) {
			return "pe"
		}
	}
	return ""
}

// entrypoints lists the files package.json points at (main, bin), so
// extensionless ones are still read as JavaScript.
func entrypoints(p *Package) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		if s == "" {
			return
		}
		out[cleanRel(s)] = true
	}
	add(p.Manifest.Main)
	for _, b := range p.Manifest.Bin {
		add(b)
	}
	for _, s := range p.Manifest.Scripts {
		if IsLifecycle(s.Name) {
			for _, f := range ScriptFiles(s.Command) {
				add(f)
			}
		}
	}
	return out
}

func cleanRel(s string) string {
	s = path.Clean(strings.TrimPrefix(strings.ReplaceAll(s, "\\", "/"), "./"))
	return strings.TrimPrefix(s, "/")
}

// ScriptFiles extracts the local files a script command runs with node
// (node x.js, node ./scripts/y, node -r ./z): the install-time entry
// points.
func ScriptFiles(cmd string) []string {
	var out []string
	for _, part := range splitCommands(cmd) {
		f := shellFields(part)
		for i := 0; i < len(f); i++ {
			w := path.Base(f[i])
			if w != "node" && w != "node.exe" && w != "bun" && w != "deno" && w != "tsx" && w != "ts-node" {
				continue
			}
			for j := i + 1; j < len(f); j++ {
				a := f[j]
				if a == "-r" || a == "--require" || a == "--import" {
					if j+1 < len(f) {
						out = append(out, f[j+1])
						j++
					}
					continue
				}
				if a == "run" && (w == "bun" || w == "deno") {
					continue
				}
				if strings.HasPrefix(a, "-") {
					if a == "-e" || a == "--eval" || a == "-p" || a == "--print" {
						break
					}
					continue
				}
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// splitCommands splits a shell command line on ;, &&, || and |.
func splitCommands(cmd string) []string {
	var out []string
	start := 0
	var quote byte
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ';' || c == '|' || c == '&':
			out = append(out, cmd[start:i])
			for i+1 < len(cmd) && (cmd[i+1] == '|' || cmd[i+1] == '&') {
				i++
			}
			start = i + 1
		}
	}
	return append(out, cmd[start:])
}

// shellFields splits one command into words, honouring quotes.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// ShellFields is shellFields for rules.
func ShellFields(s string) []string { return shellFields(s) }

// SplitCommands is splitCommands for rules.
func SplitCommands(s string) []string { return splitCommands(s) }

// Resolve finds the file a script or require names, the way Node does for
// relative paths: as is, then with .js/.cjs/.mjs/.json, then as a folder
// with index.js.
func (p *Package) Resolve(from, spec string) *FileFacts {
	base := cleanRel(spec)
	if from != "" {
		base = cleanRel(path.Join(path.Dir(from), spec))
	}
	if strings.HasPrefix(base, "../") || base == ".." {
		return nil
	}
	for _, c := range []string{base, base + ".js", base + ".cjs", base + ".mjs", base + ".json", base + "/index.js", base + "/index.cjs"} {
		if f := p.File(c); f != nil {
			return f
		}
	}
	return nil
}

// markInstallTime marks the files lifecycle scripts run and, following
// relative requires and imports, the files those load.
func markInstallTime(p *Package) {
	var queue []*FileFacts
	for _, s := range p.Manifest.Scripts {
		if !IsInstall(s.Name) {
			continue
		}
		for _, spec := range ScriptFiles(s.Command) {
			if f := p.Resolve("", spec); f != nil && !f.InstallTime {
				f.InstallTime = true
				queue = append(queue, f)
			}
		}
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if f.JS == nil {
			continue
		}
		for _, imp := range f.JS.Imports {
			if !strings.HasPrefix(imp.Module, "./") && !strings.HasPrefix(imp.Module, "../") {
				continue
			}
			if g := p.Resolve(f.Path, imp.Module); g != nil && !g.InstallTime {
				g.InstallTime = true
				queue = append(queue, g)
			}
		}
	}
}
