package yarnlock

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Yarn v1 writes its own format, not YAML:
//
//	"@babel/core@^7.0.0", "@babel/core@^7.1.0":
//	  version "7.29.13"
//	  resolved "https://registry.yarnpkg.com/@babel/core/-/core-7.29.13.tgz#dcfa…"
//	  integrity sha512-…
//	  dependencies:
//	    "@babel/code-frame" "^7.29.7"
//	    debug "^4.1.0"
//
// Keys and values are JSON strings or bare tokens; a key followed by ':'
// opens a block indented two more spaces; '#' starts a comment. Entries are
// at column 1, their fields at 2 spaces and block members at 4; yarn writes
// nothing deeper. The reader below follows yarn's tokenizer
// (src/lockfile/parse.js) for that shape line by line, which keeps line
// numbers at hand and needs no allocation per line.

type v1Block int

const (
	v1None v1Block = iota
	v1Deps
	v1OptDeps
	v1Skip // a block this reader has no use for
)

func parseV1(ctx context.Context, file, text string) (*lockfile.Graph, error) {
	b, err := readV1(ctx, file, text)
	if err != nil {
		return nil, err
	}
	return b.build(ctx, lockfile.FormatYarnV1)
}

// readV1 reads the entries of text.
func readV1(ctx context.Context, file, text string) (*builder, error) {
	b := newBuilder(file, false, len(text))
	sc := newLineScanner(text)
	cur := -1 // index of the entry being read
	block := v1None
	finish := func() error {
		if cur < 0 {
			return nil
		}
		e := &b.entries[cur]
		e.depEnd = int32(len(b.deps))
		if e.version == "" {
			return parseErr(file, e.line, e.col, "entry %.100q has no version field", e.key)
		}
		return nil
	}
	for {
		line, n, ok := sc.next()
		if !ok {
			break
		}
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
		}
		if isBlankOrComment(line) {
			continue
		}
		ind := indentOf(line)
		if line[ind] == '\t' {
			return nil, parseErr(file, n, ind+1, "expected spaces for indentation, found a tab")
		}
		if block == v1Skip && ind > 2 {
			continue
		}
		switch ind {
		case 0:
			if err := finish(); err != nil {
				return nil, err
			}
			if isConflictMarker(line) {
				return nil, parseErr(file, n, 1, "unresolved merge conflict marker; run yarn install to rewrite the lockfile")
			}
			if err := b.v1Header(line, n); err != nil {
				return nil, err
			}
			cur = len(b.entries) - 1
			block = v1None
		case 2:
			if cur < 0 {
				return nil, parseErr(file, n, 3, "expected an entry header (name@range:) at column 1 before this field")
			}
			key, val, opens, col, err := v1Pair(line, ind)
			if err != "" {
				return nil, parseErr(file, n, col, "%s", err)
			}
			e := &b.entries[cur]
			block = v1None
			if opens {
				switch key {
				case "dependencies":
					block = v1Deps
				case "optionalDependencies":
					block = v1OptDeps
				default:
					block = v1Skip
				}
				continue
			}
			switch key {
			case "version":
				e.version = val
			case "resolved":
				e.resolved = val
			case "integrity":
				e.integrity = val
			}
		case 4:
			if block == v1None {
				return nil, parseErr(file, n, 5, "unexpected indentation: expected a field at 2 spaces")
			}
			key, val, opens, col, err := v1Pair(line, ind)
			if err != "" {
				return nil, parseErr(file, n, col, "%s", err)
			}
			if opens {
				return nil, parseErr(file, n, ind+1, "expected a range after dependency %.100q", key)
			}
			b.deps = append(b.deps, dep{name: key, rng: val, optional: block == v1OptDeps})
		default:
			return nil, parseErr(file, n, ind+1, "unexpected indentation of %d spaces: expected 0, 2 or 4", ind)
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return b, nil
}

func isConflictMarker(line string) bool {
	return strings.HasPrefix(line, "<<<<<<<") || strings.HasPrefix(line, "=======") || strings.HasPrefix(line, ">>>>>>>")
}

// v1Header reads an entry header: one or more descriptors, quoted or bare,
// separated by commas and ended by a colon.
func (b *builder) v1Header(line string, n int) error {
	e := entry{line: n, col: 1, descStart: int32(len(b.descs)), depStart: int32(len(b.deps))}
	quoted := false
	pos := 0
	for {
		for pos < len(line) && line[pos] == ' ' {
			pos++
		}
		if pos == len(line) {
			return parseErr(b.file, n, pos+1, "expected a descriptor (name@range)")
		}
		var d string
		if line[pos] == '"' {
			val, rest, ok := unquote(line[pos:])
			if !ok {
				return parseErr(b.file, n, pos+1, "unterminated quoted string")
			}
			d = val
			pos = len(line) - len(rest)
			quoted = true
		} else {
			start := pos
			for pos < len(line) && line[pos] != ',' && line[pos] != ':' && line[pos] != ' ' {
				pos++
			}
			d = line[start:pos]
		}
		if d == "" {
			return parseErr(b.file, n, pos+1, "expected a descriptor (name@range)")
		}
		name, rng := splitDescriptor(d)
		if !plausibleName(name) {
			return parseErr(b.file, n, pos+1, "descriptor %.100q has no package name", d)
		}
		b.descs = append(b.descs, desc{name, rng})
		for pos < len(line) && line[pos] == ' ' {
			pos++
		}
		if pos < len(line) && line[pos] == ',' {
			pos++
			continue
		}
		if pos < len(line) && line[pos] == ':' && restIsEmpty(line[pos+1:]) {
			break
		}
		return parseErr(b.file, n, pos+1, "expected ',' or ':' at the end of the entry header")
	}
	e.descEnd = int32(len(b.descs))
	if quoted {
		var sb strings.Builder
		for i, d := range b.descs[e.descStart:e.descEnd] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(d.name)
			sb.WriteByte('@')
			sb.WriteString(d.rng)
		}
		e.key = sb.String()
	} else {
		e.key = strings.TrimRight(line[:pos], " ")
	}
	b.entries = append(b.entries, e)
	return nil
}

// v1Pair reads "key value" or "key:" at indentation ind. On failure err
// says what was expected at column col.
func v1Pair(line string, ind int) (key, val string, opens bool, col int, err string) {
	pos := ind
	if line[pos] == '"' {
		k, rest, ok := unquote(line[pos:])
		if !ok {
			return "", "", false, pos + 1, "unterminated quoted string"
		}
		key = k
		pos = len(line) - len(rest)
	} else {
		start := pos
		for pos < len(line) && line[pos] != ' ' && line[pos] != ':' {
			pos++
		}
		key = line[start:pos]
		if key == "" {
			return "", "", false, start + 1, "expected a key"
		}
	}
	if pos < len(line) && line[pos] == ':' {
		if !restIsEmpty(line[pos+1:]) {
			return "", "", false, pos + 2, "expected the end of the line after ':'"
		}
		return key, "", true, 0, ""
	}
	if pos == len(line) || line[pos] != ' ' {
		return "", "", false, pos + 1, fmt.Sprintf("expected a space and a value after %.100q", key)
	}
	for pos < len(line) && line[pos] == ' ' {
		pos++
	}
	if pos == len(line) || line[pos] == '#' {
		return "", "", false, pos + 1, fmt.Sprintf("expected a value after %.100q", key)
	}
	if line[pos] == '"' {
		v, rest, ok := unquote(line[pos:])
		if !ok {
			return "", "", false, pos + 1, "unterminated quoted string"
		}
		if !restIsEmpty(rest) {
			return "", "", false, junkColumn(line, rest), "expected the end of the line after the value"
		}
		return key, v, false, 0, ""
	}
	start := pos
	for pos < len(line) && line[pos] != ' ' {
		pos++
	}
	if !restIsEmpty(line[pos:]) {
		return "", "", false, junkColumn(line, line[pos:]), "expected the end of the line after the value (quote values with spaces)"
	}
	return key, line[start:pos], false, 0, ""
}

// v1Package makes the Package of a v1 entry. Its name is the real package
// name: an aliased descriptor (string-width-cjs@npm:string-width@^4) names
// the alias first.
func (b *builder) v1Package(e *entry) (lockfile.Package, error) {
	ds := b.entryDescs(e)
	first := ds[0]
	p := lockfile.Package{
		Key:       e.key,
		Resolved:  e.resolved,
		Integrity: e.integrity,
		Location:  lockfile.Location{File: b.file, Line: e.line, Column: e.col},
	}
	p.Name = first.name
	if real := aliasTarget(first.rng); real != "" {
		p.Name, p.Alias = real, first.name
	}
	p.Version = e.version
	p.Source = classify(first.rng)
	for _, d := range ds {
		if classify(d.rng) == lockfile.SourceRegistry {
			// is-number@^7.0.0 and is-number@https://…/is-number-7.0.0.tgz
			// share an entry: the registry range says what it is.
			p.Source = lockfile.SourceRegistry
			break
		}
	}
	if p.Resolved == "" && p.Source != lockfile.SourceRegistry {
		p.Resolved = first.rng // file: entries have no resolved field
	}
	if p.Integrity == "" && (p.Source == lockfile.SourceRegistry || p.Source == lockfile.SourceTarball) {
		// Older entries carry only the tarball's sha1 in the URL fragment.
		// A git URL's fragment is a commit, not a hash of the bytes.
		if _, frag, ok := strings.Cut(e.resolved, "#"); ok && len(frag) == 40 && isHex(frag) {
			p.Integrity = frag
		}
	}
	return p, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
