package registry

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// encoding/json matches object keys to struct fields case-insensitively
// (an exact match first, then any key that folds to the field's name) and
// lets the last matching key win, while npm, pnpm, yarn and bun read
// JavaScript objects, whose keys are exact. A version object with
// "scripts" and a decoy "Scripts" is then judged on the decoy while
// clients run the real one. Decoding every version twice (once exactly)
// would halve the parser's speed, so ambiguousKeys instead scans the
// version's raw bytes once, listing the keys of the objects the wire
// structs decode, and reports the spellings that encoding/json would
// conflate.

// keySchema describes one object the wire structs decode: its fields, by
// exact name, and the objects nested in them.
type keySchema struct {
	// byName and byFold map a field's exact name and its folded name
	// (foldKey) to its index in fields.
	byName map[string]int
	byFold map[string]int
	fields []keyField
}

type keyField struct {
	name string
	// strict: a lone spelling in another case (no exact one beside it) is
	// ambiguous too. Set on the objects the registry writes itself (dist,
	// _npmUser) and their fields, where npm never produces one and where
	// reading a value clients ignore lets a document steer the proxy (a
	// lone "Dist" with an internal tarball URL) or fake provenance. In
	// package.json's own keys a lone "License" is an old package's quirk
	// that only makes Vigil see more than clients do.
	strict bool
	// object is the schema of the field's value when it is an object;
	// elems the schema of the objects in its value when it is an array
	// (maintainers, dist.signatures). Either may also apply to the other
	// shape where the wire type accepts both (license).
	object, elems *keySchema
}

func newKeySchema(strict bool, fields ...keyField) *keySchema {
	s := &keySchema{byName: map[string]int{}, byFold: map[string]int{}, fields: fields}
	for i, f := range fields {
		s.fields[i].strict = s.fields[i].strict || strict
		s.byName[f.name] = i
		s.byFold[string(foldKey(nil, []byte(f.name)))] = i
	}
	return s
}

func keyFields(ns ...string) []keyField {
	out := make([]keyField, len(ns))
	for i, n := range ns {
		out[i] = keyField{name: n}
	}
	return out
}

// The schemas mirror manifestWire, distWire, Person's and the other
// UnmarshalJSON methods' structs in loose.go: a field added there must be
// added here.
var manifestKeys = func() *keySchema {
	trusted := newKeySchema(true, keyFields("id", "oidcConfigId")...)
	person := func(strict bool) *keySchema {
		p := newKeySchema(strict, append(keyFields("name", "email", "url"), keyField{name: "trustedPublisher", object: trusted}, keyField{name: "approver"})...)
		p.fields[p.byName["approver"]].object = p // an approver is a Person too
		return p
	}
	npmUser := person(true)
	provenance := newKeySchema(true, keyFields("predicateType")...)
	// attestationsWire's Provenance has no tag: encoding/json's exact name
	// is "Provenance", but the registry writes "provenance".
	attestations := newKeySchema(true, keyField{name: "url"}, keyField{name: "provenance", object: provenance})
	signature := newKeySchema(true, keyFields("keyid", "sig")...)
	dist := newKeySchema(true, append(keyFields("tarball", "shasum", "integrity", "fileCount", "unpackedSize", "npm-signature"),
		keyField{name: "signatures", elems: signature},
		keyField{name: "attestations", object: attestations})...)
	licence := newKeySchema(false, keyFields("type")...)
	return newKeySchema(false, append(keyFields("name", "version", "description",
		"scripts", "dependencies", "optionalDependencies", "devDependencies", "peerDependencies",
		"bundleDependencies", "bundledDependencies", "bin", "engines", "os", "cpu",
		"deprecated", "hasInstallScript", "gypfile", "gitHead", "_npmVersion", "_nodeVersion"),
		keyField{name: "license", object: licence, elems: licence},
		keyField{name: "dist", object: dist, strict: true},
		keyField{name: "_npmUser", object: npmUser, strict: true},
		keyField{name: "maintainers", elems: person(false)})...)
}()

// foldKey appends the folded form of key to out, as encoding/json folds
// names (its foldName): ASCII letters to upper case, any other rune to the
// smallest rune of its Unicode simple-fold orbit, so that "ſcripts" (long
// s) and "scripts" fold alike, as do "\u212Aeyid" (Kelvin sign) and
// "keyid". Invalid UTF-8 decodes to U+FFFD, as in encoding/json.
func foldKey(out, key []byte) []byte {
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// ambiguousKeys scans a version object and describes its first ambiguous
// key, e.g. `"Scripts" and "scripts"` or `"dist": "Integrity" and
// "integrity"`; "" when there is none. raw is expected to be valid JSON
// (the decoder has checked it); on anything else it answers without
// panicking, and whatever it answers is not meaningful.
func ambiguousKeys(raw []byte) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	var s keyScanner
	s.b = raw
	s.object(i, manifestKeys, "")
	return s.found
}

type keyScanner struct {
	b     []byte
	found string
	fold  [64]byte
}

// object scans the object at b[i] ('{') under schema sc and returns the
// index after it, or -1 when the input is not valid JSON there. A nil sc
// skips the object.
func (s *keyScanner) object(i int, sc *keySchema, path string) int {
	if sc == nil {
		return s.skip(i)
	}
	// seen holds the first spelling of each field met so far; a second,
	// different spelling is ambiguous.
	var small [32]struct {
		field    int
		spelling []byte
	}
	seen := small[:0]
	b := s.b
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		if b[i] == '}' {
			return i + 1
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return -1
			}
		}
		if b[i] != '"' {
			return -1
		}
		end, esc := stringEnd(b, i)
		if end < 0 {
			return -1
		}
		key := b[i+1 : end-1]
		if esc {
			var k string
			if json.Unmarshal(b[i:end], &k) != nil {
				return -1
			}
			key = []byte(k)
		}
		field, exact := -1, false
		if f, ok := sc.byName[string(key)]; ok {
			field, exact = f, true
		} else if f, ok := sc.byFold[string(foldKey(s.fold[:0], key))]; ok {
			field = f
		}
		if field >= 0 && s.found == "" {
			dup := false
			for _, x := range seen {
				if x.field == field {
					dup = true
					if !bytes.Equal(x.spelling, key) {
						s.report(path, string(x.spelling), string(key))
					}
					break
				}
			}
			if !dup {
				seen = append(seen, struct {
					field    int
					spelling []byte
				}{field, key})
				if !exact && sc.fields[field].strict {
					s.report(path, string(key), sc.fields[field].name)
				}
			}
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return -1
		}
		var sub, elems *keySchema
		if field >= 0 {
			sub, elems = sc.fields[field].object, sc.fields[field].elems
		}
		switch {
		case b[i] == '{' && sub != nil:
			i = s.object(i, sub, join(path, sc.fields[field].name))
		case b[i] == '[' && elems != nil:
			i = s.array(i, elems, join(path, sc.fields[field].name))
		default:
			i = s.skip(i)
		}
		if i < 0 {
			return -1
		}
	}
}

// array scans the array at b[i] ('['), the objects in it under sc.
func (s *keyScanner) array(i int, sc *keySchema, path string) int {
	b := s.b
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i++
			continue
		case '{':
			i = s.object(i, sc, path)
		default:
			i = s.skip(i)
		}
		if i < 0 {
			return -1
		}
	}
}

// report records the first ambiguity found.
func (s *keyScanner) report(path, a, b string) {
	if s.found != "" {
		return
	}
	// ASCII quoting shows a decoy's Kelvin sign or long s as an escape.
	s.found = strconv.QuoteToASCII(a) + " and " + strconv.QuoteToASCII(b)
	if path != "" {
		s.found = strconv.QuoteToASCII(path) + ": " + s.found
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// skip returns the index after the value at b[i], or -1.
func (s *keyScanner) skip(i int) int {
	b := s.b
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, _ := stringEnd(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number or literal: up to the next delimiter.
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] ('"'), or
// -1, and whether it contains escapes.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1, escaped
		}
		q := j + k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if !escaped && bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
		}
		if n%2 == 0 {
			return q + 1, escaped
		}
		j = q + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
