package lockfile

import (
	"errors"
	"fmt"
)

// ParseError is a malformed lockfile: which file, where, and what was
// expected there.
type ParseError struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	Msg    string
	Err    error // the underlying decoder error, if any
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrTooLarge is returned for input over the reader's size limit.
var ErrTooLarge = errors.New("file is larger than the size limit")

// ErrUnsupported is returned for files Vigil recognises but cannot read,
// such as the binary bun.lockb; the message says what to do instead.
var ErrUnsupported = errors.New("unsupported lockfile")
