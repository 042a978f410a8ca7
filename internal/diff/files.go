package diff

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// Class says what a file is to a reviewer.
type Class string

const (
	// ClassCode runs: JavaScript, TypeScript, shell, PowerShell, batch,
	// Python, and extensionless files package.json points at.
	ClassCode Class = "code"
	// ClassManifest is package.json, whose scripts run at install (it is
	// also compared field by field).
	ClassManifest Class = "manifest"
	// ClassBinary is an executable or archive (recognised by its magic
	// number) or any file with NUL bytes.
	ClassBinary Class = "binary"
	// ClassData is JSON other than package.json, and source maps.
	ClassData Class = "data"
	// ClassDocs is documentation, licences and type declarations.
	ClassDocs Class = "docs"
	// ClassOther is any other text (CSS, HTML, templates…).
	ClassOther Class = "other"
)

// Files is the file-level comparison.
type Files struct {
	Added   []FileEntry  `json:"added"`
	Removed []FileEntry  `json:"removed"`
	Changed []FileChange `json:"changed"`
	// Unchanged counts files identical on both sides (by SHA-256), and
	// UnchangedBytes their size.
	Unchanged      int   `json:"unchanged"`
	UnchangedBytes int64 `json:"unchanged_bytes"`
	// NotCompared are files too large to load on either side.
	NotCompared []NotCompared `json:"not_compared,omitempty"`
	// Truncated is set when MaxTotalBytes cut hunks from some files.
	Truncated bool `json:"truncated,omitempty"`
}

// FileEntry is a file only one side has.
type FileEntry struct {
	Path   string `json:"path"`
	Class  Class  `json:"class"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Executable: the file has an execute bit.
	Executable bool `json:"executable,omitempty"`
	// Lines counts the lines of a text file (0 for binaries).
	Lines int `json:"lines,omitempty"`
	// Text shows an added code file as one all-added hunk (within the
	// same limits as changes); nil otherwise and with Options.NoHunks.
	Text *TextDiff `json:"text,omitempty"`
}

// FileChange is a file both sides have with different contents or mode.
type FileChange struct {
	Path    string `json:"path"`
	Class   Class  `json:"class"`
	SizeA   int64  `json:"size_a"`
	SizeB   int64  `json:"size_b"`
	Delta   int64  `json:"delta"`
	SHA256A string `json:"sha256_a"`
	SHA256B string `json:"sha256_b"`
	// ModeChanged: the execute bit was added or removed (ExecutableB says
	// which way).
	ModeChanged bool `json:"mode_changed,omitempty"`
	ExecutableB bool `json:"executable_b,omitempty"`
	// Text is the line diff; nil for binaries and with Options.NoHunks.
	Text *TextDiff `json:"text,omitempty"`
}

// NotCompared is a file at least one side could not load.
type NotCompared struct {
	Path string `json:"path"`
	// SizeA and SizeB are -1 where the side lacks the file.
	SizeA int64 `json:"size_a"`
	SizeB int64 `json:"size_b"`
}

// budget is what is left of MaxTotalBytes.
type budget struct{ left int }

func compareFiles(ctx context.Context, a, b *prepared, opt Options) Files {
	var out Files
	bud := &budget{left: opt.MaxTotalBytes}
	tooLarge := notComparable(a, b)
	for _, nc := range tooLarge {
		out.NotCompared = append(out.NotCompared, nc)
	}
	sort.Slice(out.NotCompared, func(i, j int) bool { return out.NotCompared[i].Path < out.NotCompared[j].Path })

	type pair struct{ fa, fb int }
	var changed []pair
	for i, fb := range b.Files {
		if _, skip := tooLarge[fb.Path]; skip {
			continue
		}
		j, ok := a.byPath[fb.Path]
		if !ok {
			out.Added = append(out.Added, entry(b, i))
			continue
		}
		fa := a.Files[j]
		if bytes.Equal(fa.Data, fb.Data) && executable(fa.Mode) == executable(fb.Mode) {
			out.Unchanged++
			out.UnchangedBytes += int64(len(fb.Data))
			continue
		}
		changed = append(changed, pair{j, i})
	}
	for i, fa := range a.Files {
		if _, skip := tooLarge[fa.Path]; skip {
			continue
		}
		if _, ok := b.byPath[fa.Path]; !ok {
			out.Removed = append(out.Removed, entry(a, i))
		}
	}
	// Code first, so the budget goes to what runs: changed code, added
	// code, then the other changed text files.
	sort.SliceStable(changed, func(x, y int) bool {
		cx, cy := classOf(b, changed[x].fb) == ClassCode, classOf(b, changed[y].fb) == ClassCode
		return cx && !cy
	})
	addedCodeDone := false
	addCode := func() {
		addedCodeDone = true
		for i := range out.Added {
			e := &out.Added[i]
			if opt.NoHunks || e.Class != ClassCode || ctx.Err() != nil {
				continue
			}
			e.Text = lineDiff(nil, b.file(e.Path).Data, opt, bud)
			out.Truncated = out.Truncated || (e.Text.Truncated && bud.left <= 0)
		}
	}
	for _, p := range changed {
		if ctx.Err() != nil {
			break
		}
		fa, fb := a.Files[p.fa], b.Files[p.fb]
		c := FileChange{
			Path: fb.Path, Class: classOf(b, p.fb),
			SizeA: int64(len(fa.Data)), SizeB: int64(len(fb.Data)),
			SHA256A: sha(fa.Data), SHA256B: sha(fb.Data),
			ModeChanged: executable(fa.Mode) != executable(fb.Mode), ExecutableB: executable(fb.Mode),
		}
		c.Delta = c.SizeB - c.SizeA
		if c.Class != ClassCode && !addedCodeDone {
			addCode()
		}
		if !opt.NoHunks && c.Class != ClassBinary && !bytes.Equal(fa.Data, fb.Data) && !isBinary(fa.Data) {
			c.Text = lineDiff(fa.Data, fb.Data, opt, bud)
			out.Truncated = out.Truncated || (c.Text.Truncated && bud.left <= 0)
		}
		out.Changed = append(out.Changed, c)
	}
	if !addedCodeDone {
		addCode()
	}
	sort.Slice(out.Changed, func(i, j int) bool { return out.Changed[i].Path < out.Changed[j].Path })
	return out
}

// notComparable lists the paths either side could not load.
func notComparable(a, b *prepared) map[string]NotCompared {
	out := map[string]NotCompared{}
	get := func(path string) NotCompared {
		if nc, ok := out[path]; ok {
			return nc
		}
		return NotCompared{Path: path, SizeA: sizeOf(a, path), SizeB: sizeOf(b, path)}
	}
	for _, n := range a.NotLoaded {
		nc := get(n.Path)
		nc.SizeA = n.Size
		out[n.Path] = nc
	}
	for _, n := range b.NotLoaded {
		nc := get(n.Path)
		nc.SizeB = n.Size
		out[n.Path] = nc
	}
	return out
}

func sizeOf(p *prepared, path string) int64 {
	if f := p.file(path); f != nil {
		return int64(len(f.Data))
	}
	return -1
}

func entry(p *prepared, i int) FileEntry {
	f := p.Files[i]
	e := FileEntry{Path: f.Path, Class: classOf(p, i), Size: int64(len(f.Data)), SHA256: sha(f.Data), Executable: executable(f.Mode)}
	if e.Class != ClassBinary && !isBinary(f.Data) {
		e.Lines = countLines(f.Data)
	}
	return e
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func executable(m fs.FileMode) bool { return m&0o111 != 0 }

// classOf classifies file i of a side from its extracted facts, which know
// which extensionless files package.json runs.
func classOf(p *prepared, i int) Class {
	f := p.Files[i]
	if f.Path == "package.json" {
		return ClassManifest
	}
	kind := facts.KindText
	if ff := p.facts.File(f.Path); ff != nil {
		kind = ff.Kind
	}
	switch kind {
	case facts.KindJS, facts.KindTS, facts.KindScript:
		return ClassCode
	case facts.KindBinary:
		return ClassBinary
	case facts.KindJSON:
		return ClassData
	}
	if isBinary(f.Data) {
		return ClassBinary
	}
	if isDocs(f.Path) {
		return ClassDocs
	}
	return ClassOther
}

func isDocs(p string) bool {
	name := strings.ToLower(path.Base(p))
	for _, suf := range []string{".d.ts", ".d.mts", ".d.cts", ".md", ".markdown", ".txt", ".rst", ".adoc"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	for _, pre := range []string{"license", "licence", "readme", "changelog", "history", "authors", "notice", "contributors", "copying"} {
		if strings.HasPrefix(name, pre) {
			return true
		}
	}
	return false
}

// isBinary: a NUL byte in the first 8 KiB, the heuristic git uses.
func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8<<10)], 0) >= 0
}

func countLines(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	n := bytes.Count(b, []byte{'\n'})
	if b[len(b)-1] != '\n' {
		n++
	}
	return n
}
