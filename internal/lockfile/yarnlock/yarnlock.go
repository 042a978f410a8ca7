// Package yarnlock reads yarn.lock files of both dialects into a
// lockfile.Graph: yarn classic (v1, its own indented format) and yarn Berry
// (yarn 2 to 4, a YAML subset with a __metadata block).
//
// Both dialects key an entry by the list of descriptors (name@range) that
// resolved to it, and list each entry's dependencies as name → range, so
// edges are found by looking the descriptor name@range up among the keys.
//
// What a yarn.lock cannot say on its own: yarn v1 records neither the
// project's own packages nor which dependencies are dev-only, and Berry
// merges devDependencies into its workspace entries. AttachManifests adds
// that from the package.json files beside the lockfile.
//
// Choices worth knowing:
//   - Berry's workspace: entries are the Importers, and also Packages
//     (Source workspace) so that one workspace can depend on another.
//   - A Berry patch: entry is the package yarn installs (Source patch, the
//     version of the package it patches); the unpatched entry it is made
//     from is folded into it rather than counted a second time.
//   - Berry records no hash of the registry tarball, so its packages have
//     no Integrity (see berryPackage).
//   - A file that lists one descriptor in two entries is rejected: which
//     of the two yarn installs is not knowable.
package yarnlock

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Reader reads yarn.lock, either dialect; it tells them apart by content.
type Reader struct{}

var _ lockfile.Reader = Reader{}

func (Reader) Name() string { return "yarn" }

func (Reader) Matches(base string) bool { return base == "yarn.lock" }

// ctxEvery is how many lines are read between checks of the context.
const ctxEvery = 4096

// Parse reads data, the whole content of the yarn.lock at path.
func (Reader) Parse(ctx context.Context, path string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes: %w", path, len(data), lockfile.ErrTooLarge)
	}
	// One copy of the file; every name, version and key in the graph is a
	// substring of it, so reading allocates little beyond the graph itself.
	text := string(data)
	if isBerry(text) {
		return parseBerry(ctx, path, text)
	}
	return parseV1(ctx, path, text)
}

// isBerry reports whether text has Berry's top-level __metadata block. Yarn
// writes it first, after the header comment; v1 files never have it.
func isBerry(text string) bool {
	for sc := newLineScanner(text); ; {
		line, _, ok := sc.next()
		if !ok {
			return false
		}
		if isBlankOrComment(line) {
			continue
		}
		// The key may be quoted by hand-edited or other writers' files.
		return strings.HasPrefix(line, "__metadata:") || strings.HasPrefix(line, `"__metadata":`)
	}
}

// lineScanner yields the lines of text without their line ending, with
// their 1-based number and byte offset.
type lineScanner struct {
	text string
	pos  int
	line int
}

func newLineScanner(text string) *lineScanner {
	s := &lineScanner{text: text}
	// A byte order mark is not part of the first key.
	if strings.HasPrefix(text, "\ufeff") {
		s.pos = len("\ufeff")
	}
	return s
}

func (s *lineScanner) next() (line string, lineNo int, ok bool) {
	if s.pos >= len(s.text) {
		return "", 0, false
	}
	rest := s.text[s.pos:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		line = rest[:i]
		s.pos += i + 1
	} else {
		line = rest
		s.pos = len(s.text)
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	s.line++
	return line, s.line, true
}

func isBlankOrComment(line string) bool {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t':
			continue
		case '#':
			return true
		}
		return false
	}
	return true
}

// indentOf counts the leading spaces of line.
func indentOf(line string) int {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

// splitDescriptor splits "name@range" (the name may be scoped). A
// descriptor without a range gives range "".
func splitDescriptor(d string) (name, rng string) {
	from := 0
	if strings.HasPrefix(d, "@") {
		from = 1
	}
	i := strings.IndexByte(d[from:], '@')
	if i < 0 {
		return d, ""
	}
	return d[:from+i], d[from+i+1:]
}

// plausibleName rejects what cannot be a package name at all. Names are
// not held to npm's rules: old lockfiles have legacy names those rules
// reject, and the name is reported as written.
func plausibleName(name string) bool {
	if name == "" {
		return false
	}
	if name[0] == '@' {
		i := strings.IndexByte(name, '/')
		return i > 1 && i < len(name)-1
	}
	return true
}

// junkColumn is the 1-based column of the first non-blank byte of rest, the
// tail of line.
func junkColumn(line, rest string) int {
	return len(line) - len(strings.TrimLeft(rest, " \t")) + 1
}

// aliasTarget returns the real name behind an npm alias range
// ("npm:string-width@^4.2.0" → "string-width"), or "" for other ranges.
func aliasTarget(rng string) string {
	rest, ok := strings.CutPrefix(rng, "npm:")
	if !ok || rest == "" {
		return ""
	}
	// "npm:^1.0.0" (Berry's plain registry range) names no other package.
	if c := rest[0]; c != '@' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
		return ""
	}
	name, r := splitDescriptor(rest)
	if r == "" && !strings.HasPrefix(rest, "@") {
		// "npm:1.2.3" or "npm:latest": a version or tag, not a name.
		return ""
	}
	return name
}

// classify says where a range or a Berry resolution takes its bytes from.
// Plain semver ranges, versions and tags are the registry's.
func classify(rng string) lockfile.Source {
	switch {
	case strings.HasPrefix(rng, "npm:"):
		return lockfile.SourceRegistry
	case strings.HasPrefix(rng, "workspace:"):
		return lockfile.SourceWorkspace
	case strings.HasPrefix(rng, "patch:"):
		return lockfile.SourcePatch
	case strings.HasPrefix(rng, "link:"), strings.HasPrefix(rng, "portal:"):
		return lockfile.SourceLink
	case strings.HasPrefix(rng, "file:"), strings.HasPrefix(rng, "./"), strings.HasPrefix(rng, "../"),
		strings.HasPrefix(rng, "/"), strings.HasPrefix(rng, "~/"):
		return lockfile.SourceFile
	case strings.HasPrefix(rng, "exec:"):
		// Berry's exec: builds the package by running a script of the
		// project; its bytes come from the project's folder like file:.
		return lockfile.SourceFile
	case isGit(rng):
		return lockfile.SourceGit
	case strings.HasPrefix(rng, "http://"), strings.HasPrefix(rng, "https://"):
		return lockfile.SourceTarball
	}
	return lockfile.SourceRegistry
}

func isGit(rng string) bool {
	for _, p := range [...]string{"git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:"} {
		if strings.HasPrefix(rng, p) {
			return true
		}
	}
	if strings.HasPrefix(rng, "http://") || strings.HasPrefix(rng, "https://") {
		u, frag, _ := strings.Cut(rng, "#")
		return strings.HasSuffix(u, ".git") || strings.HasPrefix(frag, "commit=") ||
			strings.HasPrefix(frag, "head=") || strings.HasPrefix(frag, "tag=") || strings.HasPrefix(frag, "semver:")
	}
	// GitHub shorthand "user/repo#ref": no semver range has a slash.
	if i := strings.IndexByte(rng, '/'); i > 0 && !strings.ContainsAny(rng[:i], ":@ ") {
		return true
	}
	return false
}

// unquote decodes a double-quoted string that starts at s[0] and returns it
// with the rest of s after the closing quote. Both dialects write JSON
// string syntax; strings without escapes, nearly all of them, are returned
// as substrings.
func unquote(s string) (val, rest string, ok bool) {
	end := strings.IndexByte(s[1:], '"') + 1
	if end == 0 {
		return "", "", false
	}
	if strings.IndexByte(s[1:end], '\\') < 0 {
		return s[1:end], s[end+1:], true
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			var out string
			if err := json.Unmarshal([]byte(s[:i+1]), &out); err != nil {
				return "", "", false
			}
			return out, s[i+1:], true
		}
	}
	return "", "", false
}

// restIsEmpty reports whether what follows a value on its line is nothing
// but spaces and perhaps a comment.
func restIsEmpty(rest string) bool {
	rest = strings.TrimLeft(rest, " \t")
	return rest == "" || rest[0] == '#'
}

func parseErr(file string, line, col int, format string, args ...any) *lockfile.ParseError {
	return &lockfile.ParseError{File: file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}
