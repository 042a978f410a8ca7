package npmlock

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// maxDepth bounds JSON nesting. A package-lock is at most a few levels deep
// except for lockfileVersion 1 trees, which nest once per node_modules
// level; real trees stay far below this. The bound keeps hostile input from
// growing the stack without limit.
const maxDepth = 1000

// scanner is a strict, allocation-free JSON tokenizer over one file.
//
// encoding/json has no positions and its Decoder.Token allocates for every
// token; jsontext still needs GOEXPERIMENT=jsonv2 on Go 1.26. A lockfile is
// a plain object of objects of strings, so a small hand-written scanner
// that knows its byte offset everywhere is both the simplest way to point
// at a line and several times faster.
//
// Strings are returned as substrings of src, a single string copy of the
// input, so the common escape-free string costs no allocation.
type scanner struct {
	file  string
	src   string
	pos   int
	depth int

	// Line counting is incremental because offsets are visited nearly in
	// order: lineOff is the last offset asked about, line its line and
	// lineStart the offset where that line starts. Each byte is looked at
	// once however long the lines (a minified lockfile is one line).
	lineOff   int
	line      int
	lineStart int
}

func newScanner(file string, data []byte) *scanner {
	s := &scanner{file: file, src: string(data), line: 1}
	s.src = strings.TrimPrefix(s.src, "\ufeff") // npm strips a BOM too
	return s
}

// position returns the 1-based line and column of byte offset off.
func (s *scanner) position(off int) (line, col int) {
	off = min(off, len(s.src))
	if off < s.lineOff {
		s.lineOff, s.line, s.lineStart = 0, 1, 0
	}
	seg := s.src[s.lineOff:off]
	if n := strings.Count(seg, "\n"); n > 0 {
		s.line += n
		s.lineStart = s.lineOff + strings.LastIndexByte(seg, '\n') + 1
	}
	s.lineOff = off
	return s.line, off - s.lineStart + 1
}

func (s *scanner) errorAt(off int, format string, args ...any) *lockfile.ParseError {
	line, col := s.position(off)
	return &lockfile.ParseError{File: s.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// found describes what is at the current position, for error messages.
func (s *scanner) found() string {
	if s.pos >= len(s.src) {
		return "end of file"
	}
	c := s.src[s.pos]
	switch {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	case c < 0x20 || c >= 0x7f:
		return fmt.Sprintf("byte %#02x", c)
	}
	return fmt.Sprintf("%q", c)
}

func (s *scanner) expected(what string) *lockfile.ParseError {
	return s.errorAt(s.pos, "expected %s, found %s", what, s.found())
}

func (s *scanner) ws() {
	i := s.pos
	for i < len(s.src) {
		switch s.src[i] {
		case ' ':
			// Indentation comes in runs of spaces: take them 8 at a time.
			i++
			for i+8 <= len(s.src) && load64(s.src, i) == 0x2020202020202020 {
				i += 8
			}
		case '\n', '\t', '\r':
			i++
		default:
			s.pos = i
			return
		}
	}
	s.pos = i
}

// load64 reads 8 bytes of s at i, little-endian; the compiler turns it into
// one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainASCII reports whether all 8 bytes in x are ASCII that neither ends
// nor escapes a string nor is a control character. This is SWAR: in
// (v-lsb)&^v&msb a byte's high bit is set where v's byte is zero (or
// below n for v-lsb*n), and the "any byte" answer is exact.
func plainASCII(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((q-lsb)&^q|(b-lsb)&^b|(x-lsb*0x20)&^x|x)&msb == 0
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

// end checks that nothing but white space follows the top-level value.
func (s *scanner) end() error {
	if s.ws(); s.pos < len(s.src) {
		return s.expected("end of file after the top-level object")
	}
	return nil
}

// object iterates over an object's members. Call begin at '{', then next
// until done; after each key the caller must consume exactly one value.
type object struct {
	s     *scanner
	first bool
}

func (s *scanner) object(what string) (object, error) {
	if s.peek() != '{' {
		return object{}, s.expected(what)
	}
	if s.depth++; s.depth > maxDepth {
		return object{}, s.errorAt(s.pos, "JSON nested deeper than %d levels", maxDepth)
	}
	s.pos++
	return object{s: s, first: true}, nil
}

// next returns the next key and the offset of its opening quote, or
// done at the closing brace.
func (o *object) next() (key string, off int, done bool, err error) {
	s := o.s
	c := s.peek()
	if c == '}' {
		s.pos++
		s.depth--
		return "", 0, true, nil
	}
	if !o.first {
		if c != ',' {
			return "", 0, false, s.expected("',' or '}'")
		}
		s.pos++
		c = s.peek()
	}
	o.first = false
	if c != '"' {
		return "", 0, false, s.expected("a string key")
	}
	off = s.pos
	key, err = s.str()
	if err != nil {
		return "", 0, false, err
	}
	if s.peek() != ':' {
		return "", 0, false, s.expected("':' after object key")
	}
	s.pos++
	return key, off, false, nil
}

// str reads a string at the current position (which must be '"').
//
// Invalid UTF-8 becomes U+FFFD, byte by byte, as encoding/json does (and
// as Node.js does reading the file), so names read here are names npm sees.
func (s *scanner) str() (string, error) {
	start := s.pos + 1
	i := start
	// Lockfile strings are ASCII without escapes: 8 bytes at a time.
	for i+8 <= len(s.src) && plainASCII(load64(s.src, i)) {
		i += 8
	}
	ascii := true
	for ; i < len(s.src); i++ {
		switch c := s.src[i]; {
		case c == '"':
			if !ascii && !utf8.ValidString(s.src[start:i]) {
				return s.strSlow(start)
			}
			s.pos = i + 1
			return s.src[start:i], nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return "", s.errorAt(i, "control character %#02x in string", c)
		case c >= 0x80:
			ascii = false
		}
	}
	return "", s.errorAt(s.pos, "string is not terminated")
}

// strSlow decodes a string with escapes or invalid UTF-8, both rare in
// lockfiles. Invalid surrogates become U+FFFD, as encoding/json does.
func (s *scanner) strSlow(start int) (string, error) {
	var b strings.Builder
	i := start
	for i < len(s.src) {
		c := s.src[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			return "", s.errorAt(i, "control character %#02x in string", c)
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s.src[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s.src[i : i+size])
			}
			i += size
			continue
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s.src) {
			break
		}
		switch e := s.src[i+1]; e {
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
			r, ok := hex4(s.src, i+2)
			if !ok {
				return "", s.errorAt(i, `expected 4 hex digits after \u`)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s.src, i+2); ok && i+1 < len(s.src) && s.src[i] == '\\' && s.src[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		default:
			return "", s.errorAt(i, "invalid escape %q in string", s.src[i:i+2])
		}
		i += 2
	}
	return "", s.errorAt(start-1, "string is not terminated")
}

func hex4(src string, at int) (rune, bool) {
	if at+4 > len(src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(src[at : at+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// stringValue reads a value that must be a string; field names it in errors.
func (s *scanner) stringValue(field string) (string, error) {
	if s.peek() != '"' {
		return "", s.expected(fmt.Sprintf("a string for %q", field))
	}
	return s.str()
}

// boolValue reads a value that must be true or false.
func (s *scanner) boolValue(field string) (bool, error) {
	switch s.peek() {
	case 't':
		if strings.HasPrefix(s.src[s.pos:], "true") {
			s.pos += 4
			return true, nil
		}
	case 'f':
		if strings.HasPrefix(s.src[s.pos:], "false") {
			s.pos += 5
			return false, nil
		}
	}
	return false, s.expected(fmt.Sprintf("true or false for %q", field))
}

// number reads a JSON number and returns its text.
func (s *scanner) number() (string, error) {
	start := s.pos
	i := s.pos
	if i < len(s.src) && s.src[i] == '-' {
		i++
	}
	switch {
	case i < len(s.src) && s.src[i] == '0':
		i++
	case i < len(s.src) && s.src[i] >= '1' && s.src[i] <= '9':
		i = digits(s.src, i)
	default:
		s.pos = i
		return "", s.expected("a digit")
	}
	if i < len(s.src) && s.src[i] == '.' {
		j := digits(s.src, i+1)
		if j == i+1 {
			s.pos = j
			return "", s.expected("a digit after the decimal point")
		}
		i = j
	}
	if i < len(s.src) && (s.src[i] == 'e' || s.src[i] == 'E') {
		i++
		if i < len(s.src) && (s.src[i] == '+' || s.src[i] == '-') {
			i++
		}
		j := digits(s.src, i)
		if j == i {
			s.pos = j
			return "", s.expected("a digit in the exponent")
		}
		i = j
	}
	s.pos = i
	return s.src[start:i], nil
}

func digits(src string, i int) int {
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
	}
	return i
}

// skip validates and skips one value of any type.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		_, err := s.str() // a substring: no allocation unless escaped
		return err
	case '{':
		o, err := s.object("an object")
		if err != nil {
			return err
		}
		for {
			_, _, done, err := o.next()
			if err != nil || done {
				return err
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '[':
		return s.array(func() error { return s.skip() })
	case 't', 'f':
		_, err := s.boolValue("value")
		if err != nil {
			return s.expected("a JSON value")
		}
		return nil
	case 'n':
		if strings.HasPrefix(s.src[s.pos:], "null") {
			s.pos += 4
			return nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err := s.number()
		return err
	}
	return s.expected("a JSON value")
}

// array calls elem once per element; elem must consume exactly one value.
func (s *scanner) array(elem func() error) error {
	if s.peek() != '[' {
		return s.expected("an array")
	}
	if s.depth++; s.depth > maxDepth {
		return s.errorAt(s.pos, "JSON nested deeper than %d levels", maxDepth)
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.expected("',' or ']'")
		}
	}
}
