package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The proxy edits packuments surgically: it finds the byte ranges of the
// few values it changes (versions, dist-tags, time, each dist.tarball) and
// copies everything else as received, so unknown fields, key order and
// number formatting survive, and a 20 MB document is never decoded into
// maps and re-encoded. This file is the small scanner that finds those
// ranges. It is bounded (no recursion: nesting is tracked with a counter)
// and never panics on malformed input (see FuzzScanObject).

// errJSON reports input the scanner cannot walk.
var errJSON = errors.New("malformed JSON")

// member is one "key": value pair of an object, as byte offsets into the
// scanned document.
type member struct {
	keyStart, keyEnd     int // the key's string literal, quotes included
	valueStart, valueEnd int // the value, exactly as in the document
}

// key returns the member's decoded key. Keys without escapes (nearly all
// of them) are returned without decoding.
func (m member) key(data []byte) (string, error) {
	raw := data[m.keyStart:m.keyEnd]
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("%w: key at offset %d: %v", errJSON, m.keyStart, err)
			}
			return s, nil
		}
	}
	return string(inner), nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the offset just past the string literal at data[i].
func scanString(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '"' {
		return 0, fmt.Errorf("%w: want a string at offset %d", errJSON, i)
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return 0, fmt.Errorf("%w: control character in string at offset %d", errJSON, j)
		}
	}
	return 0, fmt.Errorf("%w: unterminated string at offset %d", errJSON, i)
}

// scanValue returns the offset just past the JSON value starting at
// data[i] (after whitespace). Objects and arrays are walked with a depth
// counter; their structure is checked only as far as brackets, strings and
// separators go: the proxy only scans documents json.Decoder already
// accepted, and this must merely never misplace a boundary or panic.
func scanValue(data []byte, i int) (int, error) {
	i = skipSpace(data, i)
	if i >= len(data) {
		return 0, fmt.Errorf("%w: want a value at offset %d", errJSON, i)
	}
	switch c := data[i]; {
	case c == '"':
		return scanString(data, i)
	case c == '{' || c == '[':
		var stack []byte // open brackets; bounded by the input's length
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := scanString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				stack = append(stack, data[j])
			case '}', ']':
				if len(stack) == 0 {
					return 0, fmt.Errorf("%w: unbalanced %q at offset %d", errJSON, data[j], j)
				}
				open := stack[len(stack)-1]
				if (open == '{') != (data[j] == '}') {
					return 0, fmt.Errorf("%w: %q closes %q at offset %d", errJSON, data[j], open, j)
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unterminated %q at offset %d", errJSON, c, i)
	default: // number, true, false, null: runs to the next delimiter
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				if j == i {
					return 0, fmt.Errorf("%w: want a value at offset %d", errJSON, i)
				}
				return j, nil
			case '"', '{', '[', ':':
				return 0, fmt.Errorf("%w: unexpected %q at offset %d", errJSON, data[j], j)
			}
			j++
		}
		return j, nil
	}
}

// scanObject calls fn for each member of the object starting at data[i]
// (after whitespace), in document order, and returns the offset just past
// the object. fn returning an error stops the walk with that error.
func scanObject(data []byte, i int, fn func(member) error) (int, error) {
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != '{' {
		return 0, fmt.Errorf("%w: want an object at offset %d", errJSON, i)
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		var m member
		m.keyStart = skipSpace(data, i)
		var err error
		if m.keyEnd, err = scanString(data, m.keyStart); err != nil {
			return 0, err
		}
		i = skipSpace(data, m.keyEnd)
		if i >= len(data) || data[i] != ':' {
			return 0, fmt.Errorf("%w: want ':' at offset %d", errJSON, i)
		}
		m.valueStart = skipSpace(data, i+1)
		if m.valueEnd, err = scanValue(data, m.valueStart); err != nil {
			return 0, err
		}
		if err := fn(m); err != nil {
			return 0, err
		}
		i = skipSpace(data, m.valueEnd)
		if i >= len(data) {
			return 0, fmt.Errorf("%w: unterminated object", errJSON)
		}
		switch data[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, fmt.Errorf("%w: want ',' or '}' at offset %d", errJSON, i)
		}
	}
}

// findMember returns the member named key of the object at data[i], and
// whether there is one. With duplicate keys the last wins, as in
// encoding/json and JavaScript's JSON.parse.
func findMember(data []byte, i int, key string) (member, bool, error) {
	var found member
	ok := false
	_, err := scanObject(data, i, func(m member) error {
		k, err := m.key(data)
		if err != nil {
			return err
		}
		if k == key {
			found, ok = m, true
		}
		return nil
	})
	return found, ok, err
}
