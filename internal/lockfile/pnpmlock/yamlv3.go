package pnpmlock

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseV3 reads a YAML stream with go.yaml.in/yaml/v3 into the same tree
// the fast reader builds. It is the fallback for YAML outside the fast
// reader's subset, and the reference that FuzzYAMLTrees compares against.
func parseV3(src string) (t *tree, err error) {
	defer func() {
		// yaml/v3 is well fuzzed, but a panic in a dependency must not take
		// the scan down with it.
		if r := recover(); r != nil {
			t, err = nil, &syntaxError{msg: fmt.Sprintf("YAML reader failed: %v", r)}
		}
	}()
	c := &v3Converter{t: &tree{src: src}, budget: 4*len(src) + 1024}
	dec := yaml.NewDecoder(strings.NewReader(src))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return c.t, nil
			}
			return nil, v3Error(err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root, err := c.convert(doc.Content[0], 0)
		if err != nil {
			return nil, err
		}
		if c.t.nodes[root].kind != kNull {
			c.t.docs = append(c.t.docs, root)
		}
	}
}

type v3Converter struct {
	t      *tree
	budget int // nodes left; aliases could otherwise expand exponentially
}

func (c *v3Converter) convert(n *yaml.Node, depth int) (int32, error) {
	if c.budget--; c.budget < 0 {
		return -1, &syntaxError{line: n.Line, col: n.Column, msg: "too many YAML nodes (alias expansion?)"}
	}
	if depth > 200 {
		return -1, &syntaxError{line: n.Line, col: n.Column, msg: "YAML nested too deeply"}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return -1, &syntaxError{line: n.Line, col: n.Column, msg: "unknown alias"}
		}
		id, err := c.convert(n.Alias, depth+1)
		if err == nil {
			// an alias stands where it is used
			c.t.nodes[id].line, c.t.nodes[id].col = int32(n.Line), int32(n.Column)
		}
		return id, err
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return c.t.add(node{kind: kNull, line: int32(n.Line), col: int32(n.Column)}), nil
		}
		return c.t.add(node{kind: kScalar, line: int32(n.Line), col: int32(n.Column), val: c.t.strSpan(n.Value)}), nil
	case yaml.SequenceNode:
		id := c.t.add(node{kind: kSeq, line: int32(n.Line), col: int32(n.Column)})
		for _, item := range n.Content {
			v, err := c.convert(item, depth+1)
			if err != nil {
				return -1, err
			}
			c.t.appendChild(id, v)
		}
		return id, nil
	case yaml.MappingNode:
		id := c.t.add(node{kind: kMap, line: int32(n.Line), col: int32(n.Column)})
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			for k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return -1, &syntaxError{line: n.Content[i].Line, col: n.Content[i].Column, msg: "a mapping key that is not a scalar"}
			}
			v, err := c.convert(n.Content[i+1], depth+1)
			if err != nil {
				return -1, err
			}
			vn := &c.t.nodes[v]
			vn.key, vn.keyLine, vn.keyCol = c.t.strSpan(k.Value), int32(n.Content[i].Line), int32(n.Content[i].Column)
			c.t.appendChild(id, v)
		}
		return id, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return c.t.add(node{kind: kNull, line: int32(n.Line), col: int32(n.Column)}), nil
		}
		return c.convert(n.Content[0], depth+1)
	}
	return -1, &syntaxError{line: n.Line, col: n.Column, msg: "unknown YAML node"}
}

var v3LineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// v3Error turns yaml/v3's "yaml: line N: msg" errors into a syntaxError.
func v3Error(err error) error {
	msg := err.Error()
	if m := v3LineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &syntaxError{line: line, msg: m[2]}
	}
	return &syntaxError{msg: strings.TrimPrefix(msg, "yaml: ")}
}
