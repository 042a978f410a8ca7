package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// walker reads a JSON document token by token with encoding/json's
// streaming Decoder. Walking by hand, rather than decoding into
// cyclonedx-go's or our own whole-document structs, is what gives every
// component the byte offset of its opening brace (and so a line for
// reports), lets a wrong type name the exact field, and lets sections we do
// not read (licenses, vulnerabilities, annotations …) be skipped without
// building them.
type walker struct {
	file  string
	data  []byte // the whole file, for positions
	base  int    // offset of the decoder's input within data (after a UTF-8 BOM)
	dec   *json.Decoder
	lines *lockfile.LineIndex // built on the first position asked for
}

func newWalker(file string, data []byte) *walker {
	base := 0
	// Windows tools sometimes write a UTF-8 byte order mark, which JSON
	// forbids but every SBOM consumer tolerates.
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		base = 3
	}
	return &walker{file: file, data: data, base: base, dec: json.NewDecoder(bytes.NewReader(data[base:]))}
}

// offset is where the decoder stands in data: just after the last token.
func (w *walker) offset() int { return w.base + int(w.dec.InputOffset()) }

// valueStart is the offset of the first byte of the next value: between
// tokens there is only white space and the separators the decoder consumes
// with the next token.
func (w *walker) valueStart() int {
	off := w.offset()
	for off < len(w.data) && (isSpace(w.data[off]) || w.data[off] == ',' || w.data[off] == ':') {
		off++
	}
	return off
}

func (w *walker) position(off int) (line, col int) {
	if w.lines == nil {
		w.lines = lockfile.NewLineIndex(w.data)
	}
	return w.lines.Position(off)
}

func (w *walker) location(off int) lockfile.Location {
	line, col := w.position(off)
	return lockfile.Location{File: w.file, Line: line, Column: col}
}

// errorAt is a ParseError at byte offset off.
func (w *walker) errorAt(off int, format string, args ...any) *lockfile.ParseError {
	line, col := w.position(min(off, len(w.data)))
	return &lockfile.ParseError{File: w.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// decodeError turns an error of the decoder, met while reading the value
// that starts at off, into a ParseError. what names the value
// ("components[3].hashes") and want says what it should be ("an array of
// {alg, content} objects").
//
// The streaming Decoder's SyntaxError offsets are relative to its internal
// buffer and not reliable, so syntax errors are located again by
// json.Unmarshal over the whole document, whose offsets are exact. That
// second scan only happens for broken files.
func (w *walker) decodeError(err error, off int, what, want string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return w.errorAt(off, "%s: expected %s, found a JSON %s", what, want, typeErr.Value)
		}
		// Deep inside a value decoded in one go (a dependencies section of
		// thousands of entries), point at the offending element itself.
		return w.errorAt(w.typeErrorOffset(off, typeErr), "%s: expected %s, found a JSON %s at %q",
			what, want, typeErr.Value, typeErr.Field)
	}
	var skip skipValue
	uerr := json.Unmarshal(w.data[w.base:], &skip)
	var syn *json.SyntaxError
	if errors.As(uerr, &syn) {
		at := w.base + int(syn.Offset)
		if syn.Error() != "unexpected end of JSON input" && at > w.base {
			at-- // the offset is just past the offending byte
		}
		pe := w.errorAt(at, "invalid JSON while reading %s (expected %s): %s", what, want, syn.Error())
		pe.Err = uerr
		return pe
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return w.errorAt(len(w.data), "unexpected end of file while reading %s (expected %s)", what, want)
	}
	pe := w.errorAt(off, "reading %s: %v", what, err)
	pe.Err = err
	return pe
}

// typeErrorOffset locates the value a type error is about. The decoder
// reports the offset just past it (just past the opening bracket for an
// object or array), counted from where its input for this Decode began:
// right after the separator or bracket that precedes the value at start.
// The result is clamped to the value, so a different reading of the
// offset by a future Go release can only make it less precise.
func (w *walker) typeErrorOffset(start int, e *json.UnmarshalTypeError) int {
	base := start
	for base > w.base && isSpace(w.data[base-1]) {
		base--
	}
	end := base + int(e.Offset)
	if end <= start || end > len(w.data) {
		return start
	}
	if e.Value == "object" || e.Value == "array" {
		return end - 1
	}
	i := end - 1 // the last byte of the literal
	if w.data[i] == '"' {
		for i--; i > start; i-- {
			if w.data[i] == '"' && evenBackslashes(w.data[start:i]) {
				return i
			}
		}
		return start
	}
	for i > start && !isSpace(w.data[i-1]) && strings.IndexByte(",:[{", w.data[i-1]) < 0 {
		i--
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// evenBackslashes reports whether b ends in an even number of backslashes,
// i.e. whether a quote after it is not escaped.
func evenBackslashes(b []byte) bool {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// skipValue consumes a value without building it; the decoder still checks
// its syntax.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// The value readers below name what they read by the enclosing value
// (what, "components[3]", "" at the top) and the key; the two are joined
// only for an error message, so reading allocates nothing for names.

func join(what, key string) string {
	if what == "" {
		return key
	}
	return what + "." + key
}

func (w *walker) skip(what, key string) error {
	off := w.valueStart()
	var s skipValue
	if err := w.dec.Decode(&s); err != nil {
		return w.decodeError(err, off, join(what, key), "a JSON value")
	}
	return nil
}

// decode reads the next value into v. Our targets (strings, slices of
// small structs) read JSON null as their zero value, which is how
// producers write "absent".
func (w *walker) decode(v any, what, key, want string) error {
	off := w.valueStart()
	if err := w.dec.Decode(v); err != nil {
		return w.decodeError(err, off, join(what, key), want)
	}
	return nil
}

// str reads a string value; null reads as "".
func (w *walker) str(what, key string) (string, error) {
	var s string
	err := w.decode(&s, what, key, "a string")
	return s, err
}

// begin reads the opening delimiter of an object ('{') or array ('[').
// present is false, and nothing more is to be read, when the value is null:
// producers write "components": null for "none".
func (w *walker) begin(open json.Delim, what string) (start int, present bool, err error) {
	start = w.valueStart()
	want := "an object"
	if open == '[' {
		want = "an array"
	}
	tok, err := w.dec.Token()
	if err != nil {
		return start, false, w.decodeError(err, start, what, want)
	}
	switch tok {
	case open:
		return start, true, nil
	case nil:
		return start, false, nil
	}
	return start, false, w.errorAt(start, "%s: expected %s, found %s", what, want, describeToken(tok))
}

// key reads the next object key; ok is false at the end of the object,
// whose closing brace is then consumed.
func (w *walker) key(what string) (key string, ok bool, err error) {
	if !w.dec.More() {
		off := w.valueStart()
		if _, err := w.dec.Token(); err != nil {
			return "", false, w.decodeError(err, off, what, "a key or '}'")
		}
		return "", false, nil
	}
	off := w.valueStart()
	tok, err := w.dec.Token()
	if err != nil {
		return "", false, w.decodeError(err, off, what, "a key")
	}
	k, isString := tok.(string)
	if !isString {
		// The decoder only returns strings in key position; anything else
		// is a syntax error it reports itself, but be defensive.
		return "", false, w.errorAt(off, "%s: expected an object key", what)
	}
	return k, true, nil
}

// more reports whether an array has another element; at the end it
// consumes the closing bracket.
func (w *walker) more(what string) (bool, error) {
	if w.dec.More() {
		return true, nil
	}
	off := w.valueStart()
	if _, err := w.dec.Token(); err != nil {
		return false, w.decodeError(err, off, what, "an element or ']'")
	}
	return false, nil
}

// end checks that nothing but white space follows the top-level value.
func (w *walker) end() error {
	off := w.valueStart()
	if _, err := w.dec.Token(); err != io.EOF {
		if err != nil {
			return w.decodeError(err, off, "the end of the file", "nothing after the top-level object")
		}
		return w.errorAt(off, "unexpected data after the top-level object")
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		if t == '[' {
			return "an array"
		}
		return fmt.Sprintf("%q", t.String())
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// topLevel walks the keys of the root object, calling visit for each with
// the walker positioned on its value; visit must consume the value.
func (w *walker) topLevel(visit func(key string) error) error {
	if len(bytes.TrimSpace(w.data[w.base:])) == 0 {
		return w.errorAt(0, "empty file: expected a JSON object")
	}
	_, present, err := w.begin('{', "the document")
	if err != nil {
		return err
	}
	if !present {
		return w.errorAt(w.base, "expected a JSON object at the top level, found null")
	}
	for {
		k, ok, err := w.key("the document")
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := visit(k); err != nil {
			return err
		}
	}
	return w.end()
}
