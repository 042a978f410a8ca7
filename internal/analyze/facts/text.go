package facts

import (
	"bytes"
	"math"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// Text describes a file's shape as text: its lines, its entropy and the
// characters that should not be in code.
type Text struct {
	Lines int `json:"lines"`
	// MaxLine and MedianLine are line lengths in bytes.
	MaxLine    int `json:"maxLine"`
	MedianLine int `json:"medianLine"`
	// Entropy is the Shannon entropy of the bytes, in bits per byte.
	Entropy float64 `json:"entropy"`
	// LongLines are the longest lines of at least LongLine bytes (at most
	// maxLongLines of them, longest first).
	LongLines []Line `json:"longLines,omitempty"`
	// Invisible are bidirectional-control, zero-width and filler
	// characters (the first few); InvisibleCount counts all of them.
	Invisible      []Char `json:"invisible,omitempty"`
	InvisibleCount int    `json:"invisibleCount,omitempty"`
	// HiddenRuns are runs of at least HiddenRun spaces or tabs followed by
	// more code on the same line: text pushed past the right edge of an
	// editor or a diff view.
	HiddenRuns []Run `json:"hiddenRuns,omitempty"`
	// EsotericRun is the longest run of only the characters []()!+ — the
	// alphabet of JSFuck — and where it starts.
	EsotericRun int    `json:"esotericRun,omitempty"`
	EsotericPos js.Pos `json:"esotericPos,omitzero"`
	// Symbols counts bytes from JSFuck's and JJEncode's alphabet
	// ($_+[](){}!~"':;,.=) among NonSpace non-whitespace bytes: written
	// code is mostly letters, those encodings almost none.
	Symbols  int `json:"symbols"`
	NonSpace int `json:"nonSpace"`
}

// Line is one long line.
type Line struct {
	Pos     js.Pos  `json:"pos"`
	Len     int     `json:"len"`
	Entropy float64 `json:"entropy"`
	// HexNames counts _0x1a2b-style identifiers, HexNumbers 0x number
	// literals and HexArith hex literals joined by + - * to another hex
	// literal (-0x1caa+0x61f*0x1) — obfuscator.io's fingerprints. A hex
	// data table (a CRC table) has HexNumbers but no HexArith.
	HexNames   int `json:"hexNames"`
	HexNumbers int `json:"hexNumbers"`
	HexArith   int `json:"hexArith"`
	// Comment: the line is a // comment (a source map, a licence).
	Comment bool `json:"comment,omitempty"`
}

// Char is one suspicious character.
type Char struct {
	Rune rune   `json:"rune"`
	Pos  js.Pos `json:"pos"`
}

// Run is a whitespace run hiding code; Pos is where the code resumes.
type Run struct {
	Len int    `json:"len"`
	Pos js.Pos `json:"pos"`
}

const (
	// LongLine is the length from which a line is recorded.
	LongLine = 1000
	// HiddenRun is the whitespace run that hides what follows.
	HiddenRun     = 150
	maxLongLines  = 16
	maxInvisible  = 32
	maxHiddenRuns = 16
)

// invisible reports whether r is a character that changes how code reads
// without being seen: bidirectional overrides and isolates (Trojan
// Source), zero-width characters and fillers used as identifiers.
func invisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0x180E: // zero-width space/joiners, word joiner
		return true
	case r == 0x3164, r == 0xFFA0, r == 0x115F, r == 0x1160: // Hangul fillers: invisible identifier characters
		return true
	}
	return false
}

// scanText computes Text in one pass over data.
func scanText(data []byte) *Text {
	t := &Text{}
	var hist [256]int
	var lenHist [1025]int // line lengths; the last bucket holds ≥ 1024
	lineStart, line := 0, 1
	esoRun, esoStart := 0, 0
	wsRun, wsStart, sawCode := 0, 0, false
	type longLine struct{ start, end, line int }
	var longs []longLine

	endLine := func(end int) {
		n := end - lineStart
		if n > t.MaxLine {
			t.MaxLine = n
		}
		lenHist[min(n, 1024)]++
		if n >= LongLine {
			longs = append(longs, longLine{lineStart, end, line})
		}
	}
	for i := 0; i < len(data); {
		c := data[i]
		hist[c]++
		switch c {
		case '[', ']', '(', ')', '!', '+':
			if esoRun == 0 {
				esoStart = i
			}
			esoRun++
			if esoRun > t.EsotericRun {
				t.EsotericRun = esoRun
				t.EsotericPos = js.Pos{Offset: esoStart, Line: line, Col: esoStart - lineStart + 1}
			}
		default:
			esoRun = 0
		}
		switch c {
		case ' ', '\t':
			if wsRun == 0 {
				wsStart = i
			}
			wsRun++
			i++
			continue
		case '\n':
			endLine(i)
			line++
			i++
			lineStart = i
			wsRun, sawCode = 0, false
			continue
		case '\r':
			i++
			continue
		}
		t.NonSpace++
		switch c {
		case '$', '_', '+', '[', ']', '(', ')', '{', '}', '!', '~', '"', '\'', ':', ';', ',', '.', '=':
			t.Symbols++
		}
		if wsRun >= HiddenRun && sawCode && len(t.HiddenRuns) < maxHiddenRuns {
			t.HiddenRuns = append(t.HiddenRuns, Run{Len: wsRun, Pos: js.Pos{Offset: i, Line: line, Col: i - lineStart + 1}})
		}
		_ = wsStart
		wsRun = 0
		sawCode = true
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		for k := 1; k < size; k++ {
			hist[data[i+k]]++
		}
		if invisible(r) || (r == 0xFEFF && i > 0) {
			t.InvisibleCount++
			if len(t.Invisible) < maxInvisible {
				t.Invisible = append(t.Invisible, Char{Rune: r, Pos: js.Pos{Offset: i, Line: line, Col: i - lineStart + 1}})
			}
		}
		i += size
	}
	if lineStart < len(data) || len(data) == 0 {
		endLine(len(data))
	} else {
		line--
	}
	t.Lines = line
	t.Entropy = entropy(hist[:], len(data))
	// Median line length from the histogram.
	total := 0
	for _, n := range lenHist {
		total += n
	}
	for l, acc := 0, 0; l < len(lenHist); l++ {
		acc += lenHist[l]
		if acc*2 >= total {
			t.MedianLine = l
			break
		}
	}
	// Keep the longest lines.
	for len(longs) > 0 && len(t.LongLines) < maxLongLines {
		best := 0
		for i, l := range longs {
			if l.end-l.start > longs[best].end-longs[best].start {
				best = i
			}
		}
		l := longs[best]
		longs = append(longs[:best], longs[best+1:]...)
		t.LongLines = append(t.LongLines, lineFacts(data[l.start:l.end], js.Pos{Offset: l.start, Line: l.line, Col: 1}))
	}
	return t
}

func lineFacts(b []byte, pos js.Pos) Line {
	var hist [256]int
	for _, c := range b {
		hist[c]++
	}
	l := Line{Pos: pos, Len: len(b), Entropy: entropy(hist[:], len(b))}
	trimmed := bytes.TrimLeft(b, " \t")
	l.Comment = bytes.HasPrefix(trimmed, []byte("//"))
	for i := 0; i+2 < len(b); i++ {
		if b[i] != '0' || (b[i+1] != 'x' && b[i+1] != 'X') {
			continue
		}
		n := 0
		for i+2+n < len(b) && isHex(b[i+2+n]) {
			n++
		}
		if n == 0 {
			continue
		}
		end := i + 2 + n
		if i > 0 && b[i-1] == '_' && n >= 4 && n <= 6 && (end >= len(b) || !isIdentByte(b[end])) {
			l.HexNames++
		} else if i == 0 || !isIdentByte(b[i-1]) {
			l.HexNumbers++
			// An operator and another hex literal follow: 0x1f*0x2, 0x1+-0x2.
			j := end
			if j < len(b) && (b[j] == '+' || b[j] == '-' || b[j] == '*') {
				j++
				if j < len(b) && b[j] == '-' {
					j++
				}
				if j+2 < len(b) && b[j] == '0' && (b[j+1] == 'x' || b[j+1] == 'X') && isHex(b[j+2]) {
					l.HexArith++
				}
			}
		}
		i = end - 1
	}
	return l
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func entropy(hist []int, n int) float64 {
	if n == 0 {
		return 0
	}
	h := 0.0
	for _, c := range hist {
		if c == 0 {
			continue
		}
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return math.Round(h*1000) / 1000
}

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	var hist [256]int
	for i := 0; i < len(s); i++ {
		hist[s[i]]++
	}
	return entropy(hist[:], len(s))
}
