package tarball

import (
	"iter"
	"path"
	"strings"
	"unicode/utf8"
)

// entryPath is an archive name read the way npm extracts it: pacote calls
// node-tar with strip: 1, which drops the first path component of every
// entry whatever it is ("package", "node", the package name, "." or even
// ".."), then refuses names with a ".." element and strips absolute roots.
type entryPath struct {
	top       string // the stripped first component, as stored
	rel       string // cleaned path below the package root; "" for the root itself
	problem   string // why npm would refuse the name; rel is then ""
	escapes   bool   // the name, resolved, leaves the package root
	absolute  bool   // a root ("/", "\", "C:") was stripped
	backslash bool   // rel contains a backslash
}

func splitName(name string) entryPath {
	var e entryPath
	switch {
	case strings.IndexByte(name, 0) >= 0:
		// archive/tar cuts names at NUL already; a NUL that survives came
		// from a PAX record that node-tar and the OS would truncate.
		e.problem = "contains a NUL byte"
		return e
	case !utf8.ValidString(name):
		// node-tar decodes names as UTF-8 with replacement characters, so
		// npm would install the file under a different name than the one
		// stored; rather than guess which, the entry is refused.
		e.problem = "is not valid UTF-8"
		return e
	}
	e.absolute = isAbs(name)
	top, rest, ok := strings.Cut(name, "/")
	e.top = top
	if !ok {
		return e // a root-level entry: stripping leaves nothing
	}
	// node-tar refuses "..", and on Windows also "C:.." and backslash
	// forms; Vigil refuses all of them on every platform so that no
	// platform installs a file Vigil did not analyse.
	depth := 0
	for seg := range segments(rest) {
		switch {
		case seg == "..", len(seg) == 4 && isDriveLetter(seg[0]) && seg[1:] == ":..":
			e.problem = "contains a \"..\" element"
			depth--
			if depth < 0 {
				e.escapes = true
			}
		case seg == ".":
		default:
			depth++
		}
	}
	if e.problem != "" {
		return e
	}
	rest, stripped := stripRoots(rest)
	e.absolute = e.absolute || stripped
	rel := path.Clean(rest)
	if rel == "." {
		rel = ""
	}
	e.rel = rel
	e.backslash = strings.IndexByte(rel, '\\') >= 0
	return e
}

// stripRoots removes leading roots the way node-tar's stripAbsolutePath
// does with Windows path rules: "/", "\", "C:", UNC "\\server\share\" and
// "//?/" device prefixes, repeatedly.
func stripRoots(p string) (string, bool) {
	stripped := false
	for {
		switch {
		case strings.HasPrefix(p, "//?/"), strings.HasPrefix(p, `\\?\`),
			strings.HasPrefix(p, "//./"), strings.HasPrefix(p, `\\.\`):
			p = p[4:]
		case strings.HasPrefix(p, `\\`):
			// UNC: \\server\share\ is one root.
			server, after, ok := cutSep(p[2:])
			if ok && server != "" {
				if share, after2, ok2 := cutSep(after); share != "" {
					if ok2 {
						p = after2
					} else {
						p = ""
					}
					stripped = true
					continue
				}
			}
			p = p[1:]
		case len(p) > 0 && isSep(rune(p[0])):
			p = p[1:]
		case len(p) >= 2 && isDriveLetter(p[0]) && p[1] == ':':
			p = p[2:]
		default:
			return p, stripped
		}
		stripped = true
	}
}

func cutSep(s string) (before, after string, found bool) {
	if i := strings.IndexAny(s, `/\`); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func isSep(r rune) bool { return r == '/' || r == '\\' }

func isDriveLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isAbs reports whether p is absolute on any platform.
func isAbs(p string) bool {
	return len(p) > 0 && isSep(rune(p[0])) || len(p) >= 2 && isDriveLetter(p[0]) && p[1] == ':'
}

// linkEscapes reports whether target, resolved from the directory dir
// (slash-separated, relative to the package root), leaves the root.
// Backslashes count as separators: Windows would read them so.
func linkEscapes(dir, target string) bool {
	if target == "" {
		return false
	}
	if isAbs(target) {
		return true
	}
	depth := 0
	if dir != "." {
		for range segments(dir) {
			depth++
		}
	}
	for seg := range segments(target) {
		switch seg {
		case ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// segments yields the non-empty elements of p, split at slashes and
// backslashes, without allocating.
func segments(p string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for p != "" {
			i := strings.IndexAny(p, `/\`)
			seg := p
			if i >= 0 {
				seg, p = p[:i], p[i+1:]
			} else {
				p = ""
			}
			if seg != "" && !yield(seg) {
				return
			}
		}
	}
}
