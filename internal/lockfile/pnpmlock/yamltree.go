package pnpmlock

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Why a YAML reader of our own: pnpm-lock.yaml is machine-written in a small
// subset of YAML (block mappings, one-line flow mappings and sequences,
// plain and quoted scalars, `---` between documents). On the 1.2 MB corpus
// lockfile (monorepo-large) github.com/goccy/go-yaml's parser takes 1.0 s
// (and grows faster than linearly: 30 ms for 200 KB), go.yaml.in/yaml/v3
// takes 69 ms; `vigil scan` has 100 ms for everything. This reader takes a
// few milliseconds (see BenchmarkParse). It accepts only what it fully
// understands; anything else (anchors, block scalars, multi-line plain
// scalars, tabs, comments inside flow collections…) makes it stop with
// errUnsupported and the file is read again with yaml/v3, so that valid YAML
// written by other tools (prettier reformats lockfiles) is never rejected.
// FuzzYAMLTrees checks that both readers agree wherever the fast one
// answers.

type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kSeq
)

// node is one YAML node in a tree's flat arena. The entries of a mapping are
// its children, each carrying its key; the items of a sequence are its
// children with an empty key. Nodes hold no pointers (texts are spans of
// the source), so the garbage collector neither scans the arena nor pays
// write barriers for it.
type node struct {
	kind            kind
	line, col       int32 // of the value: a scalar's first character, a block collection's first entry, a flow collection's bracket
	keyLine, keyCol int32
	key             span
	val             span  // scalars only
	first, last     int32 // children; -1 when none
	next            int32 // next sibling; -1 at the end
}

// span is a text: src[start:end], or strs[-start-1] when start is negative
// (unescaped quoted scalars, and everything yaml/v3 reads).
type span struct{ start, end int32 }

// tree holds every document of one YAML stream. Null documents (empty ones
// between two `---`) are left out.
type tree struct {
	src   string
	strs  []string
	nodes []node
	docs  []int32
}

func (t *tree) text(s span) string {
	if s.start < 0 {
		return t.strs[-s.start-1]
	}
	return t.src[s.start:s.end]
}

// strSpan stores a text that is not a slice of the source.
func (t *tree) strSpan(s string) span {
	t.strs = append(t.strs, s)
	return span{start: -int32(len(t.strs))}
}

func (t *tree) key(n int32) string { return t.text(t.nodes[n].key) }

func (t *tree) add(n node) int32 {
	n.first, n.last, n.next = -1, -1, -1
	t.nodes = append(t.nodes, n)
	return int32(len(t.nodes) - 1)
}

func (t *tree) appendChild(parent, child int32) {
	p := &t.nodes[parent]
	if p.last < 0 {
		p.first = child
	} else {
		t.nodes[p.last].next = child
	}
	p.last = child
}

// get returns the entry of mapping m under key, or -1.
func (t *tree) get(m int32, key string) int32 {
	if m < 0 || t.nodes[m].kind != kMap {
		return -1
	}
	for c := t.nodes[m].first; c >= 0; c = t.nodes[c].next {
		if t.key(c) == key {
			return c
		}
	}
	return -1
}

// str returns the text of scalar n ("" for null, missing or collections).
func (t *tree) str(n int32) string {
	if n < 0 || t.nodes[n].kind != kScalar {
		return ""
	}
	return t.text(t.nodes[n].val)
}

// syntaxError is where and why the fast reader stopped. The text may still
// be valid YAML outside the subset it reads, so the caller always asks
// yaml/v3 next, whose verdict is final.
type syntaxError struct {
	line, col int
	msg       string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.line, e.col, e.msg)
}

// Byte classes for the scanning loops, which run over every byte of the
// file: a table lookup is cheaper than a switch.
var (
	keyStop   [256]bool // ':' and '#' end or may end a block key
	plainStop [256]bool // ':' and '#' in a block plain scalar
	flowStop  [256]bool // what may end a plain scalar in a flow collection
)

func init() {
	for _, c := range ":#" {
		keyStop[c], plainStop[c] = true, true
	}
	for _, c := range ",[]{}\n\r:#" {
		flowStop[c] = true
	}
}

// maxImplicitKey is YAML's limit on the length of a key written without
// "? " (pnpm hashes long peer suffixes, so its keys stay well below it).
const maxImplicitKey = 1024

type fastParser struct {
	s    string
	t    *tree
	off  int // start of the current line
	line int // 1-based number of the current line
	err  *syntaxError

	eolOff, eol int // lineEnd's cache: the line at eolOff ends at eol
}

// parseFast reads a whole YAML stream, or fails with a *syntaxError.
func parseFast(src string) (*tree, error) {
	src = strings.TrimPrefix(src, "\ufeff")
	if i := badByte(src); i >= 0 {
		line := strings.Count(src[:i], "\n") + 1
		col := i - (strings.LastIndexByte(src[:i], '\n') + 1) + 1
		return nil, &syntaxError{line: line, col: col, msg: fmt.Sprintf("character %q", src[i])}
	}
	lines := strings.Count(src, "\n") + 1
	p := &fastParser{s: src, t: &tree{src: src, nodes: make([]node, 0, lines+lines/4)}, line: 1, eolOff: -1}
	p.stream()
	if p.err != nil {
		return nil, p.err
	}
	return p.t, nil
}

// badByte finds what the fast reader leaves to yaml/v3: control characters
// (tabs included: pnpm never writes them, and where YAML allows them is
// subtle), lone carriage returns, invalid UTF-8, and the characters YAML
// forbids or takes as line breaks (C1 controls, NEL, U+2028, U+2029,
// U+FEFF, non-characters).
func badByte(s string) int {
	i := 0
	for i < len(s) {
		// eight bytes at a time while none needs a closer look
		if i+8 <= len(s) {
			t := s[i : i+8]
			if special[t[0]]|special[t[1]]|special[t[2]]|special[t[3]]|special[t[4]]|special[t[5]]|special[t[6]]|special[t[7]] == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		switch {
		case special[c] == 0, c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i++
			continue
		case c < 0x80:
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff || (r >= 0xd800 && r < 0xe000) || r == 0xfffe || r == 0xffff {
			return i
		}
		i += size
	}
	return -1
}

// special marks the bytes badByte must look at: controls but '\n', DEL and
// everything beyond ASCII.
var special = func() (t [256]uint8) {
	for c := range t {
		if c < 0x20 && c != '\n' || c >= 0x7f {
			t[c] = 1
		}
	}
	return t
}()

func (p *fastParser) fail(off int, format string, args ...any) {
	if p.err != nil {
		return
	}
	p.err = &syntaxError{line: p.line, col: off - p.off + 1, msg: fmt.Sprintf(format, args...)}
}

// lineEnd returns the end of the current line, without its "\r\n" or "\n".
// It is cached: a flow collection of many quoted scalars on one long line
// asks for it once per scalar.
func (p *fastParser) lineEnd() int {
	if p.eolOff == p.off && p.eol >= p.off {
		return p.eol
	}
	end := len(p.s)
	if i := strings.IndexByte(p.s[p.off:], '\n'); i >= 0 {
		end = p.off + i
		if end > p.off && p.s[end-1] == '\r' {
			end--
		}
	}
	p.eolOff, p.eol = p.off, end
	return end
}

func (p *fastParser) nextLine() {
	i := strings.IndexByte(p.s[p.off:], '\n')
	if i < 0 {
		p.off = len(p.s)
		return
	}
	p.off += i + 1
	p.line++
}

// peek skips blank and comment lines and returns the indentation of the next
// content line; ok is false at the end of input or at a document marker.
func (p *fastParser) peek() (indent int, ok bool) {
	for p.off < len(p.s) {
		end := p.lineEnd()
		i := p.off
		for i < end && p.s[i] == ' ' {
			i++
		}
		if i == end || p.s[i] == '#' {
			p.nextLine()
			continue
		}
		if i == p.off && isDocMarker(p.s[p.off:end]) {
			return 0, false
		}
		return i - p.off, true
	}
	return 0, false
}

func isDocMarker(l string) bool {
	if !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "...") {
		return false
	}
	return len(l) == 3 || l[3] == ' '
}

func (p *fastParser) stream() {
	inDoc := false // a `...` must end something
	for p.err == nil {
		if _, ok := p.peek(); ok {
			if p.s[p.off] == '%' {
				p.fail(p.off, "YAML directives")
				return
			}
			root := p.block(-1)
			if p.err != nil {
				return
			}
			if p.t.nodes[root].kind != kNull {
				p.t.docs = append(p.t.docs, root)
			}
			inDoc = true
			if _, ok := p.peek(); ok {
				p.fail(p.off, "unexpected content after the document")
				return
			}
			continue
		}
		if p.off >= len(p.s) {
			return
		}
		// a document marker: `---` or `...`, perhaps followed by a comment
		end := p.lineEnd()
		rest := strings.TrimLeft(p.s[p.off+3:end], " ")
		if rest != "" && rest[0] != '#' {
			p.fail(p.off+3, "content on a document marker line")
			return
		}
		if p.s[p.off] == '.' && !inDoc {
			p.fail(p.off, "a document end marker without a document")
			return
		}
		inDoc = p.s[p.off] == '-'
		p.nextLine()
	}
}

// block parses the block node whose lines are indented more than parent.
func (p *fastParser) block(parent int) int32 {
	indent, ok := p.peek()
	if !ok || indent <= parent {
		return p.t.add(node{kind: kNull, line: int32(p.line), col: 1})
	}
	if p.isSeqItem(p.off + indent) {
		return p.seq(indent)
	}
	if c := p.s[p.off+indent]; c == '{' || c == '[' {
		// a flow collection on lines of its own, as prettier lays out long
		// ones: `resolution:\n  {\n    integrity: …,\n  }`
		return p.inline(p.off+indent, p.lineEnd())
	}
	return p.mapping(indent)
}

func (p *fastParser) isSeqItem(i int) bool {
	return p.s[i] == '-' && (i+1 == len(p.s) || p.s[i+1] == ' ' || p.s[i+1] == '\n' || p.s[i+1] == '\r')
}

func (p *fastParser) mapping(indent int) int32 {
	m := p.t.add(node{kind: kMap, line: int32(p.line), col: int32(indent + 1)})
	for p.err == nil {
		ind, ok := p.peek()
		if !ok || ind < indent {
			break
		}
		start := p.off + ind
		if ind > indent {
			p.fail(start, "unexpected indentation (a multi-line scalar?)")
			break
		}
		if p.isSeqItem(start) {
			p.fail(start, "a sequence item where a mapping key was expected")
			break
		}
		end := p.lineEnd()
		keyLine := p.line
		key, after, ok := p.key(start, end)
		if !ok {
			break
		}
		rest := after
		for rest < end && p.s[rest] == ' ' {
			rest++
		}
		var v int32
		if rest == end || p.s[rest] == '#' {
			p.nextLine()
			// a block value: more indented, or a sequence at the key's own indentation
			if in, ok := p.peek(); ok && in == indent && p.isSeqItem(p.off+in) {
				v = p.seq(indent)
			} else {
				v = p.block(indent)
				if p.err == nil && p.t.nodes[v].kind == kNull {
					p.t.nodes[v].line, p.t.nodes[v].col = int32(keyLine), int32(after-start+indent+1)
				}
			}
		} else {
			v = p.inline(rest, end)
		}
		if p.err != nil {
			break
		}
		n := &p.t.nodes[v]
		n.key, n.keyLine, n.keyCol = key, int32(keyLine), int32(indent+1)
		p.t.appendChild(m, v)
	}
	return m
}

// key reads a mapping key at s[start:end] up to its colon; after is the
// offset just past the colon.
func (p *fastParser) key(start, end int) (key span, after int, ok bool) {
	s := p.s
	switch c := s[start]; c {
	case '"', '\'':
		k, i, ok := p.quoted(start, end)
		if !ok {
			return span{}, 0, false
		}
		if i >= end || s[i] != ':' || (i+1 < end && s[i+1] != ' ') {
			p.fail(i, "a quoted key not followed by \": \"")
			return span{}, 0, false
		}
		if i-start > maxImplicitKey {
			p.fail(start, "a key longer than %d characters", maxImplicitKey)
			return span{}, 0, false
		}
		return k, i + 1, true
	case '?', '&', '*', '!', '|', '>', '%', '@', '`', '{', '[', ',', ']', '}':
		p.fail(start, "a key starting with %q", c)
		return span{}, 0, false
	}
	for i := start; i < end; i++ {
		for i < end && !keyStop[s[i]] {
			i++
		}
		if i >= end {
			break
		}
		if i-start > maxImplicitKey {
			p.fail(start, "a key longer than %d characters", maxImplicitKey)
			return span{}, 0, false
		}
		switch s[i] {
		case ':':
			if i+1 == end || s[i+1] == ' ' {
				k := strings.TrimRight(s[start:i], " ")
				if k == "" {
					p.fail(start, "an empty key")
					return span{}, 0, false
				}
				return span{int32(start), int32(start + len(k))}, i + 1, true
			}
		case '#':
			if s[i-1] == ' ' {
				p.fail(i, "a comment inside a key")
				return span{}, 0, false
			}
		}
	}
	p.fail(start, "a line without \"key:\"")
	return span{}, 0, false
}

// inline parses a value that starts on the current line at s[i:end] and
// leaves p at the line after it.
func (p *fastParser) inline(i, end int) int32 {
	s := p.s
	line, col := int32(p.line), int32(i-p.off+1)
	var v int32
	switch c := s[i]; c {
	case '{', '[':
		v = p.flow(&i)
		if p.err != nil {
			return v
		}
		end = p.lineEnd()
	case '"', '\'':
		val, j, ok := p.quoted(i, end)
		if !ok {
			return -1
		}
		v = p.t.add(node{kind: kScalar, line: line, col: col, val: val})
		i = j
	case '&', '*', '!', '|', '>', '%', '@', '`', '?', ',', ']', '}':
		p.fail(i, "a value starting with %q", c)
		return -1
	default:
		if c == '-' && (i+1 == end || s[i+1] == ' ') {
			p.fail(i, "a sequence item after a key")
			return -1
		}
		j := i
		for j < end {
			if !plainStop[s[j]] {
				j++
				continue
			}
			if s[j] == '#' && s[j-1] == ' ' {
				break
			}
			if s[j] == ':' && (j+1 == end || s[j+1] == ' ') {
				p.fail(j, "a mapping inside a plain value")
				return -1
			}
			j++
		}
		text := strings.TrimRight(s[i:j], " ")
		v = p.t.add(plainNode(text, i, line, col))
		i = j
	}
	for i < end && s[i] == ' ' {
		i++
	}
	if i < end && s[i] != '#' {
		p.fail(i, "unexpected text after a value")
		return -1
	}
	p.nextLine()
	return v
}

// plainNode is the node of plain scalar text, found at src[start:].
func plainNode(text string, start int, line, col int32) node {
	switch text {
	case "", "~", "null", "Null", "NULL":
		return node{kind: kNull, line: line, col: col}
	}
	return node{kind: kScalar, line: line, col: col, val: span{int32(start), int32(start + len(text))}}
}

func (p *fastParser) seq(indent int) int32 {
	sq := p.t.add(node{kind: kSeq, line: int32(p.line), col: int32(indent + 1)})
	for p.err == nil {
		ind, ok := p.peek()
		if !ok || ind < indent {
			break
		}
		start := p.off + ind
		if ind > indent || !p.isSeqItem(start) {
			if ind == indent {
				break // a mapping key after `key:\n- item` at the key's indentation
			}
			p.fail(start, "unexpected indentation in a sequence")
			break
		}
		end := p.lineEnd()
		rest := start + 1
		for rest < end && p.s[rest] == ' ' {
			rest++
		}
		var v int32
		if rest == end || p.s[rest] == '#' {
			p.nextLine()
			v = p.block(indent)
		} else {
			c := p.s[rest]
			if c != '"' && c != '\'' && c != '{' && c != '[' {
				// `- key: value` (a compact mapping) and `- - x` are left to yaml/v3
				if c == '-' && (rest+1 == end || p.s[rest+1] == ' ') {
					p.fail(rest, "a nested sequence on one line")
					break
				}
				for j := rest; j < end; j++ {
					if p.s[j] == ':' && (j+1 == end || p.s[j+1] == ' ') {
						p.fail(rest, "a mapping inside a sequence item")
						return sq
					}
					if p.s[j] == '#' && p.s[j-1] == ' ' {
						break
					}
				}
			} else if c == '"' || c == '\'' {
				// a quoted key would make `- "k": v` a compact mapping
				if _, j, ok := p.quoted(rest, end); ok && j < end && p.s[j] == ':' {
					p.fail(rest, "a mapping inside a sequence item")
					break
				}
				p.err = nil
			}
			v = p.inline(rest, end)
		}
		if p.err != nil {
			break
		}
		p.t.appendChild(sq, v)
	}
	return sq
}

// quoted reads a single- or double-quoted scalar that must end on the same
// line; next is the offset after the closing quote.
func (p *fastParser) quoted(start, end int) (val span, next int, ok bool) {
	s := p.s
	q := s[start]
	if q == '\'' {
		var b *strings.Builder
		seg := start + 1
		for i := start + 1; i < end; i++ {
			if s[i] != '\'' {
				continue
			}
			if i+1 < end && s[i+1] == '\'' {
				if b == nil {
					b = &strings.Builder{}
				}
				b.WriteString(s[seg : i+1])
				i++
				seg = i + 1
				continue
			}
			if b == nil {
				return span{int32(start + 1), int32(i)}, i + 1, true
			}
			b.WriteString(s[seg:i])
			return p.t.strSpan(b.String()), i + 1, true
		}
		p.fail(start, "a quoted scalar that does not end on its line")
		return span{}, 0, false
	}
	// double-quoted
	i := start + 1
	for i < end && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < end && s[i] == '"' {
		return span{int32(start + 1), int32(i)}, i + 1, true
	}
	var b strings.Builder
	b.WriteString(s[start+1 : i])
	for i < end {
		c := s[i]
		if c == '"' {
			return p.t.strSpan(b.String()), i + 1, true
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= end {
			break
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\\', '"', '/':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+n > end {
				p.fail(i, "a short escape")
				return span{}, 0, false
			}
			r, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				p.fail(i, "a bad escape")
				return span{}, 0, false
			}
			b.WriteRune(rune(r))
			i += n
		default:
			p.fail(i-2, "the escape \\%c", e)
			return span{}, 0, false
		}
	}
	p.fail(start, "a quoted scalar that does not end on its line")
	return span{}, 0, false
}

// flow parses a flow mapping or sequence starting at s[*i]; it may span
// lines, and p.off/p.line follow it. *i is left just past the closing
// bracket.
func (p *fastParser) flow(i *int) int32 {
	s := p.s
	open := s[*i]
	k := kMap
	closeCh := byte('}')
	if open == '[' {
		k, closeCh = kSeq, ']'
	}
	n := p.t.add(node{kind: k, line: int32(p.line), col: int32(*i - p.off + 1)})
	*i++
	for p.err == nil {
		if !p.flowSpace(i) {
			return n
		}
		if s[*i] == closeCh {
			*i++
			return n
		}
		var keyText span
		var keyLine, keyCol int32
		if k == kMap {
			keyLine, keyCol = int32(p.line), int32(*i-p.off+1)
			kn := p.flowScalar(i, true)
			if p.err != nil {
				return n
			}
			if p.t.nodes[kn].kind != kScalar {
				p.fail(*i, "a flow mapping key that is not a scalar")
				return n
			}
			keyText = p.t.nodes[kn].val
			if *i-p.off+1-int(keyCol) > maxImplicitKey || int32(p.line) != keyLine {
				p.fail(*i, "a flow key longer than %d characters", maxImplicitKey)
				return n
			}
			p.t.nodes = p.t.nodes[:kn] // the key is not a node of its own
			if !p.flowSpace(i) {
				return n
			}
			if s[*i] != ':' {
				p.fail(*i, "a flow mapping entry without a value")
				return n
			}
			*i++
			if !p.flowSpace(i) {
				return n
			}
		}
		var v int32
		switch s[*i] {
		case ',', closeCh:
			if k == kSeq {
				p.fail(*i, "an empty flow sequence item")
				return n
			}
			v = p.t.add(node{kind: kNull, line: int32(p.line), col: int32(*i - p.off + 1)})
		case '{', '[':
			v = p.flow(i)
		default:
			v = p.flowScalar(i, false)
		}
		if p.err != nil {
			return n
		}
		if k == kMap {
			vn := &p.t.nodes[v]
			vn.key, vn.keyLine, vn.keyCol = keyText, keyLine, keyCol
		}
		p.t.appendChild(n, v)
		if !p.flowSpace(i) {
			return n
		}
		switch s[*i] {
		case ',':
			*i++
		case closeCh:
		default:
			p.fail(*i, "a flow collection entry not followed by ',' or %q", closeCh)
			return n
		}
	}
	return n
}

// flowSpace skips spaces and line breaks inside a flow collection.
func (p *fastParser) flowSpace(i *int) bool {
	s := p.s
	for *i < len(s) {
		switch s[*i] {
		case ' ', '\r':
			*i++
		case '\n':
			*i++
			p.off = *i
			p.line++
		case '#':
			p.fail(*i, "a comment inside a flow collection")
			return false
		default:
			return true
		}
	}
	p.fail(*i, "a flow collection that is not closed")
	return false
}

// flowScalar reads a quoted or plain scalar inside a flow collection. A
// plain one ends at ",", "]", "}", ": " or the end of the line.
func (p *fastParser) flowScalar(i *int, isKey bool) int32 {
	s := p.s
	line, col := int32(p.line), int32(*i-p.off+1)
	c := s[*i]
	if c == '"' || c == '\'' {
		val, j, ok := p.quoted(*i, p.lineEnd())
		if !ok {
			return -1
		}
		*i = j
		return p.t.add(node{kind: kScalar, line: line, col: col, val: val})
	}
	switch c {
	case '&', '*', '!', '|', '>', '%', '@', '`', '?', ':', '#':
		p.fail(*i, "a flow value starting with %q", c)
		return -1
	case '-':
		if *i+1 < len(s) && (s[*i+1] == ' ' || s[*i+1] == ',') {
			p.fail(*i, "a sequence item inside a flow collection")
			return -1
		}
	}
	j := *i
loop:
	for j < len(s) {
		if !flowStop[s[j]] {
			j++
			continue
		}
		switch s[j] {
		case ',', '[', ']', '{', '}', '\n', '\r':
			break loop
		case ':':
			if j+1 == len(s) {
				break loop
			}
			switch s[j+1] {
			case ' ', '\n', '\r':
				break loop
			case ',', ']', '}', '[', '{':
				// YAML readers disagree on whether this colon ends a key
				p.fail(j, "a colon before %q", s[j+1])
				return -1
			}
		case '#':
			if s[j-1] == ' ' {
				break loop
			}
		}
		j++
	}
	if j < len(s) && (s[j] == '[' || s[j] == '{') {
		p.fail(j, "a bracket inside a plain flow scalar")
		return -1
	}
	start := *i
	text := strings.TrimRight(s[start:j], " ")
	if j < len(s) && (s[j] == '\n' || s[j] == '\r') {
		// a plain scalar may continue on the next line; only accept it if the
		// next non-blank character closes the entry
		k := j
		for k < len(s) && (s[k] == ' ' || s[k] == '\n' || s[k] == '\r') {
			k++
		}
		if k < len(s) && s[k] != ',' && s[k] != ']' && s[k] != '}' && !(isKey && s[k] == ':') {
			p.fail(j, "a plain scalar spread over lines")
			return -1
		}
	}
	*i = start + len(text)
	return p.t.add(plainNode(text, start, line, col))
}
