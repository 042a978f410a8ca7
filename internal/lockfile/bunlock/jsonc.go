package bunlock

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Why a JSONC reader of our own: bun.lock is JSON with trailing commas (and,
// by bun's rules, comments). github.com/tailscale/hujson reads it, but takes
// 23 ms for the 1.6 MB corpus lockfile (Standardize and encoding/json add
// 16 ms more), while `vigil scan` has 100 ms for everything. This reader
// keeps strings as slices of the input and nodes in one flat arena, and
// takes a few milliseconds (see BenchmarkParse). FuzzJSONC checks it
// against hujson + encoding/json.

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kObject
	kArray
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "object", "array"}[k]
}

// node is one JSON value. The members of an object are its children, each
// carrying its key; array elements are children with an empty key. Nodes
// hold no pointers (texts are spans of the source), so the garbage collector
// neither scans the arena nor pays write barriers for it.
type node struct {
	kind        kind
	off, keyOff int32 // byte offsets of the value and of its key
	key, val    span  // val: the text of strings and numbers
	first, last int32
	next        int32
}

// span is a text: src[start:end], or strs[-start-1] when start is negative
// (strings with escapes).
type span struct{ start, end int32 }

type tree struct {
	src   string
	strs  []string
	nodes []node
	root  int32
}

func (t *tree) text(s span) string {
	if s.start < 0 {
		return t.strs[-s.start-1]
	}
	return t.src[s.start:s.end]
}

func (t *tree) key(n int32) string { return t.text(t.nodes[n].key) }

// get returns the member of object n under key, or -1.
func (t *tree) get(n int32, key string) int32 {
	if n < 0 || t.nodes[n].kind != kObject {
		return -1
	}
	for c := t.nodes[n].first; c >= 0; c = t.nodes[c].next {
		if t.key(c) == key {
			return c
		}
	}
	return -1
}

// str returns string n's value, "" for anything else.
func (t *tree) str(n int32) string {
	if n < 0 || t.nodes[n].kind != kString {
		return ""
	}
	return t.text(t.nodes[n].val)
}

// jsonError is a syntax error at a byte offset.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

const maxDepth = 512

type jsonParser struct {
	s     string
	i     int
	t     *tree
	err   *jsonError
	depth int
}

// parseJSONC reads one JSON value with comments and trailing commas.
func parseJSONC(src string) (*tree, error) {
	p := &jsonParser{s: src, t: &tree{src: src, nodes: make([]node, 0, len(src)/24+16)}}
	if strings.HasPrefix(src, "\ufeff") {
		p.i = 3
	}
	p.space()
	p.t.root = p.value()
	if p.err == nil {
		p.space()
		if p.err == nil && p.i < len(p.s) {
			p.fail("expected the end of the file after the top-level value")
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.t, nil
}

func (p *jsonParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = &jsonError{off: p.i, msg: fmt.Sprintf(format, args...)}
	}
}

func (p *jsonParser) add(n node) int32 {
	n.first, n.last, n.next = -1, -1, -1
	p.t.nodes = append(p.t.nodes, n)
	return int32(len(p.t.nodes) - 1)
}

func (p *jsonParser) appendChild(parent, child int32) {
	n := &p.t.nodes[parent]
	if n.last < 0 {
		n.first = child
	} else {
		p.t.nodes[n.last].next = child
	}
	n.last = child
}

// space skips whitespace and comments.
func (p *jsonParser) space() {
	s := p.s
	for p.i < len(s) {
		switch s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		case '/':
			if p.i+1 < len(s) && s[p.i+1] == '/' {
				j := strings.IndexByte(s[p.i:], '\n')
				if j < 0 {
					p.i = len(s)
				} else {
					p.i += j + 1
				}
			} else if p.i+1 < len(s) && s[p.i+1] == '*' {
				j := strings.Index(s[p.i+2:], "*/")
				if j < 0 {
					p.fail("expected */ to close the comment")
					p.i = len(s)
					return
				}
				p.i += j + 4
			} else {
				return
			}
		default:
			return
		}
	}
}

func (p *jsonParser) value() int32 {
	if p.i >= len(p.s) {
		p.fail("expected a value, found the end of the file")
		return -1
	}
	start := int32(p.i)
	switch c := p.s[p.i]; c {
	case '{', '[':
		if p.depth++; p.depth > maxDepth {
			p.fail("nested more than %d levels deep", maxDepth)
			return -1
		}
		var n int32
		if c == '{' {
			n = p.object()
		} else {
			n = p.array()
		}
		p.depth--
		return n
	case '"':
		v, ok := p.string()
		if !ok {
			return -1
		}
		return p.add(node{kind: kString, off: start, val: v})
	case 't', 'f', 'n':
		for _, lit := range [...]struct {
			text string
			kind kind
		}{{"true", kBool}, {"false", kBool}, {"null", kNull}} {
			if strings.HasPrefix(p.s[p.i:], lit.text) {
				p.i += len(lit.text)
				if p.i < len(p.s) && isIdent(p.s[p.i]) {
					break
				}
				return p.add(node{kind: lit.kind, off: start})
			}
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
	}
	p.i = int(start)
	p.fail("expected a value (object, array, string, number, true, false or null)")
	return -1
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (p *jsonParser) number() int32 {
	s, start := p.s, p.i
	i := p.i
	if s[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		p.i = i
		p.fail("expected a digit")
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			p.i = i
			p.fail("expected a digit after the decimal point")
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			p.i = i
			p.fail("expected a digit in the exponent")
			return -1
		}
	}
	if i < len(s) && isIdent(s[i]) {
		p.i = i
		p.fail("unexpected %q after a number", s[i])
		return -1
	}
	p.i = i
	return p.add(node{kind: kNumber, off: int32(start), val: span{int32(start), int32(i)}})
}

// string reads a JSON string; without escapes it is a slice of the input.
func (p *jsonParser) string() (span, bool) {
	s := p.s
	start := p.i + 1
	i := start
	for i < len(s) {
		// eight bytes at a time while none ends the string or needs work
		if i+8 <= len(s) {
			t := s[i : i+8]
			if strStop[t[0]]|strStop[t[1]]|strStop[t[2]]|strStop[t[3]]|strStop[t[4]]|strStop[t[5]]|strStop[t[6]]|strStop[t[7]] == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		if c == '"' {
			p.i = i + 1
			return span{int32(start), int32(i)}, true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			p.i = i
			p.fail("control character %q in a string", c)
			return span{}, false
		}
		i++
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.t.strs = append(p.t.strs, b.String())
			return span{start: -int32(len(p.t.strs))}, true
		case c < 0x20:
			p.i = i
			p.fail("control character %q in a string", c)
			return span{}, false
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				p.i = i
				p.fail("expected four hex digits after \\u")
				return span{}, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						i += 6
						b.WriteRune(d)
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default:
			p.i = i - 2
			p.fail("unknown escape \\%c", e)
			return span{}, false
		}
	}
	p.i = len(s)
	p.fail("expected \" to close the string")
	return span{}, false
}

// strStop marks the bytes that end a string's fast scan: the quote, the
// backslash and control characters.
var strStop = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 1, 1
	return t
}()

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(v), err == nil
}

func (p *jsonParser) object() int32 {
	n := p.add(node{kind: kObject, off: int32(p.i)})
	p.i++ // {
	for p.err == nil {
		p.space()
		if p.i >= len(p.s) {
			p.fail("expected \"}\" to close the object")
			break
		}
		if p.s[p.i] == '}' {
			p.i++
			return n
		}
		if p.s[p.i] != '"' {
			p.fail("expected a string key or \"}\"")
			break
		}
		keyOff := int32(p.i)
		key, ok := p.string()
		if !ok {
			break
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			p.fail("expected \":\" after the key %q", p.t.text(key))
			break
		}
		p.i++
		p.space()
		v := p.value()
		if p.err != nil {
			break
		}
		vn := &p.t.nodes[v]
		vn.key, vn.keyOff = key, keyOff
		p.appendChild(n, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			continue
		}
		p.fail("expected \",\" or \"}\" after a member")
	}
	return n
}

func (p *jsonParser) array() int32 {
	n := p.add(node{kind: kArray, off: int32(p.i)})
	p.i++ // [
	for p.err == nil {
		p.space()
		if p.i >= len(p.s) {
			p.fail("expected \"]\" to close the array")
			break
		}
		if p.s[p.i] == ']' {
			p.i++
			return n
		}
		v := p.value()
		if p.err != nil {
			break
		}
		p.appendChild(n, v)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ']' {
			continue
		}
		p.fail("expected \",\" or \"]\" after an element")
	}
	return n
}
