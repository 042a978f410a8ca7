package diff

import (
	"bytes"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// TextDiff is a bounded unified line diff of one text file.
type TextDiff struct {
	LinesA int `json:"lines_a"`
	LinesB int `json:"lines_b"`
	// Added and Removed count every changed line, including those of
	// hunks cut by the limits.
	Added   int `json:"lines_added"`
	Removed int `json:"lines_removed"`
	// Region is the span of bytes that differs.
	Region Region `json:"region"`
	Hunks  []Hunk `json:"hunks"`
	// OmittedHunks counts hunks dropped by MaxHunks or the byte limits;
	// Truncated is set when anything was dropped.
	OmittedHunks int  `json:"omitted_hunks,omitempty"`
	Truncated    bool `json:"truncated,omitempty"`
	// Coarse: the changed lines were too many to match line by line
	// (Options.MaxMatchLines), so they are shown as one replaced block.
	Coarse bool `json:"coarse,omitempty"`
}

// Region is where two files differ: everything before Offset and
// everything after the LenA (in A) or LenB (in B) bytes that follow it is
// identical. Line and Col (1-based, Col in bytes) locate Offset in B. For
// a one-line bundle this is the summary that matters: "76,440 bytes
// inserted at line 1, column 5,112".
type Region struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Col    int `json:"col"`
	LenA   int `json:"len_a"`
	LenB   int `json:"len_b"`
}

// Hunk is one group of changes with its context, as in a unified diff.
type Hunk struct {
	// OldStart and NewStart are 1-based line numbers; OldLines and
	// NewLines count the hunk's lines on each side.
	OldStart int    `json:"old_start"`
	OldLines int    `json:"old_lines"`
	NewStart int    `json:"new_start"`
	NewLines int    `json:"new_lines"`
	Lines    []Line `json:"lines"`
	// Omitted counts the hunk's lines dropped by the byte limits.
	Omitted int `json:"omitted,omitempty"`
}

// Line is one line of a hunk.
type Line struct {
	// Op is " " (context), "-" (only in A) or "+" (only in B).
	Op string `json:"op"`
	// Text is the line, sanitised, or a window of it when Cut.
	Text string `json:"text"`
	// Len is the line's full length in bytes; From is the byte offset in
	// the line where Text starts.
	Len  int  `json:"len"`
	From int  `json:"from,omitempty"`
	Cut  bool `json:"cut,omitempty"`
}

// lineDiff compares two texts line by line within opt's limits, charging
// the hunk text it keeps to bud.
func lineDiff(a, b []byte, opt Options, bud *budget) *TextDiff {
	la, lb := splitLines(a), splitLines(b)
	td := &TextDiff{LinesA: len(la), LinesB: len(lb), Region: region(a, b), Hunks: []Hunk{}}

	// Set the common start and end aside (keeping the context lines), so
	// the matcher only sees the changed middle: an injected line in a
	// 50,000-line bundle costs what the injection costs.
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	n := opt.Context
	lo := max(0, pre-n)
	hiA, hiB := len(la)-max(0, suf-n), len(lb)-max(0, suf-n)
	ma, mb := la[lo:hiA], lb[lo:hiB]

	var codes []difflib.OpCode
	if (len(la)-pre-suf)+(len(lb)-pre-suf) > opt.MaxMatchLines {
		td.Coarse = true
		codes = coarseOpCodes(len(ma), len(mb), pre-lo, suf-(len(la)-hiA))
	} else {
		codes = difflib.NewMatcher(ma, mb).GetOpCodes()
	}
	for _, c := range codes {
		switch c.Tag {
		case 'r':
			td.Removed += c.I2 - c.I1
			td.Added += c.J2 - c.J1
		case 'd':
			td.Removed += c.I2 - c.I1
		case 'i':
			td.Added += c.J2 - c.J1
		}
	}
	if td.Added == 0 && td.Removed == 0 {
		return td // the texts differ only in a final newline
	}

	groups := groupOpCodes(codes, n)
	left := min(opt.MaxFileBytes, bud.left)
	for h, g := range groups {
		if h >= opt.MaxHunks || left <= 0 {
			td.OmittedHunks = len(groups) - h
			td.Truncated = true
			break
		}
		first, last := g[0], g[len(g)-1]
		hk := Hunk{
			OldStart: lo + first.I1 + 1, OldLines: last.I2 - first.I1,
			NewStart: lo + first.J1 + 1, NewLines: last.J2 - first.J1,
			Lines: []Line{},
		}
		if hk.OldLines == 0 {
			hk.OldStart-- // unified diff convention for an empty range
		}
		if hk.NewLines == 0 {
			hk.NewStart--
		}
		for _, c := range g {
			ok := opLines(c, ma, mb, opt.LineWindow, func(ln Line) bool {
				if left <= 0 {
					return false
				}
				left -= len(ln.Text) + 1
				hk.Lines = append(hk.Lines, ln)
				return true
			})
			if !ok {
				break
			}
		}
		hk.Omitted = countHunkLines(g) - len(hk.Lines)
		if hk.Omitted > 0 {
			td.Truncated = true
		}
		td.Hunks = append(td.Hunks, hk)
	}
	bud.left -= min(opt.MaxFileBytes, bud.left) - left
	return td
}

// countHunkLines is how many lines a hunk prints: context once, changes
// on their own side.
func countHunkLines(g []difflib.OpCode) int {
	n := 0
	for _, c := range g {
		switch c.Tag {
		case 'e', 'd':
			n += c.I2 - c.I1
		case 'i':
			n += c.J2 - c.J1
		case 'r':
			n += c.I2 - c.I1 + c.J2 - c.J1
		}
	}
	return n
}

// opLines renders one opcode's lines through emit, until emit returns
// false (then opLines does too). The old and new lines of a replacement
// are paired, so that a long changed line is cut around its change.
func opLines(c difflib.OpCode, a, b []string, w int, emit func(Line) bool) bool {
	switch c.Tag {
	case 'e':
		for i := c.I1; i < c.I2; i++ {
			if !emit(headLine(" ", a[i], w)) {
				return false
			}
		}
	case 'd':
		for i := c.I1; i < c.I2; i++ {
			if !emit(headLine("-", a[i], w)) {
				return false
			}
		}
	case 'i':
		for j := c.J1; j < c.J2; j++ {
			if !emit(headLine("+", b[j], w)) {
				return false
			}
		}
	case 'r':
		n, m := c.I2-c.I1, c.J2-c.J1
		for k := 0; k < n; k++ {
			var ln Line
			if k < m {
				ln = pairLine("-", a[c.I1+k], b[c.J1+k], w)
			} else {
				ln = headLine("-", a[c.I1+k], w)
			}
			if !emit(ln) {
				return false
			}
		}
		for k := 0; k < m; k++ {
			var ln Line
			if k < n {
				ln = pairLine("+", b[c.J1+k], a[c.I1+k], w)
			} else {
				ln = headLine("+", b[c.J1+k], w)
			}
			if !emit(ln) {
				return false
			}
		}
	}
	return true
}

// headLine shows a line, or its first w bytes.
func headLine(op, s string, w int) Line {
	return cutLine(op, s, 0, w)
}

// pairLine shows line s, which replaced (or was replaced by) other, cut to
// a window that starts a little before their first differing byte.
func pairLine(op, s, other string, w int) Line {
	if len(s) <= w {
		return cutLine(op, s, 0, w)
	}
	p := 0
	for p < len(s) && p < len(other) && s[p] == other[p] {
		p++
	}
	return cutLine(op, s, max(0, p-w/4), w)
}

// cutLine returns the window [from, from+w) of s, moved to rune
// boundaries, sanitised.
func cutLine(op, s string, from, w int) Line {
	if len(s) <= w {
		return Line{Op: op, Text: rules.Sanitize(s, w), Len: len(s)}
	}
	for from > 0 && from < len(s) && !utf8.RuneStart(s[from]) {
		from--
	}
	end := min(len(s), from+w)
	for end < len(s) && end > from && !utf8.RuneStart(s[end]) {
		end--
	}
	return Line{Op: op, Text: rules.Sanitize(s[from:end], w), Len: len(s), From: from, Cut: true}
}

// coarseOpCodes describes a middle too large to match: ctxA unchanged
// lines, then everything replaced, then ctxB unchanged lines.
func coarseOpCodes(na, nb, head, tail int) []difflib.OpCode {
	var codes []difflib.OpCode
	if head > 0 {
		codes = append(codes, difflib.OpCode{Tag: 'e', I1: 0, I2: head, J1: 0, J2: head})
	}
	tag := byte('r')
	switch {
	case na-head-tail == 0:
		tag = 'i'
	case nb-head-tail == 0:
		tag = 'd'
	}
	codes = append(codes, difflib.OpCode{Tag: tag, I1: head, I2: na - tail, J1: head, J2: nb - tail})
	if tail > 0 {
		codes = append(codes, difflib.OpCode{Tag: 'e', I1: na - tail, I2: na, J1: nb - tail, J2: nb})
	}
	return codes
}

// groupOpCodes splits opcodes into hunks with n lines of context, as
// difflib's GetGroupedOpCodes does (which only works on a matcher).
func groupOpCodes(codes []difflib.OpCode, n int) [][]difflib.OpCode {
	if len(codes) == 0 {
		return nil
	}
	codes = append([]difflib.OpCode(nil), codes...)
	if c := codes[0]; c.Tag == 'e' {
		codes[0] = difflib.OpCode{Tag: 'e', I1: max(c.I1, c.I2-n), I2: c.I2, J1: max(c.J1, c.J2-n), J2: c.J2}
	}
	if c := codes[len(codes)-1]; c.Tag == 'e' {
		codes[len(codes)-1] = difflib.OpCode{Tag: 'e', I1: c.I1, I2: min(c.I2, c.I1+n), J1: c.J1, J2: min(c.J2, c.J1+n)}
	}
	var groups [][]difflib.OpCode
	var group []difflib.OpCode
	for _, c := range codes {
		if c.Tag == 'e' && c.I2-c.I1 > 2*n {
			group = append(group, difflib.OpCode{Tag: 'e', I1: c.I1, I2: min(c.I2, c.I1+n), J1: c.J1, J2: min(c.J2, c.J1+n)})
			groups = append(groups, group)
			group = nil
			c.I1, c.J1 = max(c.I1, c.I2-n), max(c.J1, c.J2-n)
		}
		group = append(group, c)
	}
	if len(group) > 0 && !(len(group) == 1 && group[0].Tag == 'e') {
		groups = append(groups, group)
	}
	// Drop empty context opcodes (n == 0) and groups left without a change.
	out := groups[:0]
	for _, g := range groups {
		kept := g[:0]
		changed := false
		for _, c := range g {
			if c.I1 == c.I2 && c.J1 == c.J2 {
				continue
			}
			changed = changed || c.Tag != 'e'
			kept = append(kept, c)
		}
		if changed {
			out = append(out, kept)
		}
	}
	return out
}

// splitLines splits on "\n"; a final newline does not start a line.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	n := bytes.Count(b, []byte{'\n'})
	out := make([]string, 0, n+1)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}

// region finds the differing span by the longest common prefix and
// suffix.
func region(a, b []byte) Region {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	r := Region{Offset: p, LenA: len(a) - p - s, LenB: len(b) - p - s}
	r.Line = bytes.Count(b[:p], []byte{'\n'}) + 1
	r.Col = p - bytes.LastIndexByte(b[:p], '\n')
	return r
}
