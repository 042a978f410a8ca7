package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// ParseError is a problem in vigil.yaml, located as precisely as the file
// allows, so it reads like a compiler error: "vigil.yaml:12:14:
// policy.advisories.malware: …".
type ParseError struct {
	// File is the config file; "" when the content was parsed from bytes.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Field is the setting at fault ("proxy.upstreams[1].scopes[0]"); ""
	// for YAML syntax errors.
	Field string
	Msg   string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteString(":" + strconv.Itoa(e.Column))
			}
		}
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// nodeError is a ParseError at node, for values decoded by our own
// unmarshalers (which see the node but not the file).
func nodeError(node ast.Node, msg string) *ParseError {
	e := &ParseError{Msg: msg, Field: strings.TrimPrefix(strings.TrimPrefix(node.GetPath(), "$"), ".")}
	if tk := node.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Column = tk.Position.Line, tk.Position.Column
	}
	return e
}

// decode is strict YAML decoding into c. The decoder panics on some
// malformed input (a tag with no value where a list is expected, found by
// FuzzParse); that becomes an error at the offending tag.
func decode(data []byte, c *Config, l *locator) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e := &ParseError{Msg: fmt.Sprintf("YAML the decoder cannot read (%v)", r)}
			if tag := l.firstEmptyTag(); tag != nil {
				e.Line, e.Column = tag.Position.Line, tag.Position.Column
				e.Msg = fmt.Sprintf("tag %s has no value", tag.Value)
			}
			err = e
		}
	}()
	if err := yaml.UnmarshalWithOptions(data, c, yaml.Strict()); err != nil {
		return decodeError(err)
	}
	return nil
}

// decodeError turns what the YAML decoder returned into a ParseError.
func decodeError(err error) *ParseError {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &ParseError{Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &ParseError{Msg: err.Error()}
}

// locator finds where a setting is written, to put a line number on a
// validation error. The file is parsed again only when an error needs it.
type locator struct {
	data   []byte
	file   *ast.File
	parsed bool
}

// errorf is a ParseError for field, at the field's position or, when the
// field is absent (a required key left out), at its closest parent.
func (l *locator) errorf(field, format string, args ...any) *ParseError {
	e := &ParseError{Field: field, Msg: fmt.Sprintf(format, args...)}
	e.Line, e.Column = l.position(field)
	return e
}

func (l *locator) position(field string) (line, col int) {
	if !l.parsed {
		l.parsed = true
		if f, err := parser.ParseBytes(l.data, 0); err == nil {
			l.file = f
		}
	}
	if l.file == nil {
		return 0, 0
	}
	steps := splitField(field)
	for n := len(steps); n > 0; n-- {
		b := (&yaml.PathBuilder{}).Root()
		for _, s := range steps[:n] {
			if s.key != "" {
				b = b.Child(s.key)
			} else {
				b = b.Index(s.index)
			}
		}
		node, err := b.Build().FilterFile(l.file)
		if err != nil || node == nil {
			continue
		}
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line, tk.Position.Column
		}
	}
	return 0, 0
}

// firstEmptyTag finds a YAML tag ("!x") applied to nothing.
func (l *locator) firstEmptyTag() *token.Token {
	l.position("") // parses the file
	if l.file == nil {
		return nil
	}
	var found *token.Token
	for _, doc := range l.file.Docs {
		if doc.Body == nil {
			continue
		}
		ast.Walk(visitFunc(func(n ast.Node) bool {
			if t, ok := n.(*ast.TagNode); ok && found == nil {
				if _, null := t.Value.(*ast.NullNode); null || t.Value == nil {
					found = t.Start
				}
			}
			return found == nil
		}), doc.Body)
	}
	return found
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil || !f(n) {
		return nil
	}
	return f
}

type step struct {
	key   string
	index uint
}

// splitField splits "proxy.upstreams[1].scopes[0]" into its keys and
// indices.
func splitField(field string) []step {
	var out []step
	for part := range strings.SplitSeq(field, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, step{key: key})
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			if !ok {
				break
			}
			if i, err := strconv.ParseUint(num, 10, 32); err == nil {
				out = append(out, step{index: uint(i)})
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}
