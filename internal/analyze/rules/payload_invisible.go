package rules

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// InvisibleCode catches Trojan Source: characters that make code read
// differently from how it runs.
var InvisibleCode = &Rule{
	ID:       "VGL-A081",
	Name:     "invisible-code-characters",
	Severity: High,
	Category: CatPayload,
	Summary: "JavaScript holds bidirectional controls (U+202A–U+202E, U+2066–U+2069) left open at the end of " +
		"a line — high (CVE-2021-42574, Trojan Source) — or closed on the same line — low; zero-width " +
		"characters inside an identifier, or Hangul fillers outside string literals (invisible identifiers) — " +
		"high. Zero-width joiners and non-joiners inside string literals (emoji sequences, Persian and Indic " +
		"text) are ignored.",
	Why: "An open override reorders everything after it on the line, so a reviewer sees a comment where the " +
		"engine sees code, or the end of a string where it goes on; an invisible identifier (const {timeout,ㅤ} " +
		"= req.query; exec(ㅤ)) smuggles a parameter into a call nobody can see.",
	FalsePositives: "Right-to-left text in string literals with explicit embedding marks, paired on one line: " +
		"low. Generated i18n tables rarely leave an override open.",
	Check: checkInvisibleCode,
}

func isBidi(r rune) bool { return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 }

func isHangulFiller(r rune) bool { return r == 0x3164 || r == 0xFFA0 || r == 0x115F || r == 0x1160 }

// unpairedBidi reports whether the line holding off leaves an embedding,
// override or isolate open at its end.
func unpairedBidi(data []byte, off int) bool {
	start := off
	for start > 0 && data[start-1] != '\n' {
		start--
	}
	embed, isolate := 0, 0
	for i := start; i < len(data) && data[i] != '\n'; {
		r, size := utf8.DecodeRune(data[i:])
		i += size
		switch {
		case r >= 0x202A && r <= 0x202B, r >= 0x202D && r <= 0x202E:
			embed++
		case r == 0x202C:
			embed = max(0, embed-1)
		case r >= 0x2066 && r <= 0x2068:
			isolate++
		case r == 0x2069:
			isolate = max(0, isolate-1)
		}
	}
	return embed > 0 || isolate > 0
}

func asciiIdent(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// stringSpans are the byte ranges of a file's string literals.
func stringSpans(f *facts.FileFacts) [][2]int {
	var spans [][2]int
	for _, s := range f.JS.Strings {
		off := s.Pos.Offset
		if s.Folded || s.Pos.Line == 0 || off >= len(f.Data) {
			continue
		}
		q := f.Data[off]
		if q != '\'' && q != '"' && q != '`' {
			// a template's text part starts after the backtick or }
			q = '`'
		}
		end := off + 1
		for end < len(f.Data) && f.Data[end] != q && !(q != '`' && f.Data[end] == '\n') {
			if f.Data[end] == '\\' {
				end++
			}
			end++
		}
		spans = append(spans, [2]int{off, end})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	return spans
}

func inSpans(spans [][2]int, off int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i][1] >= off })
	return i < len(spans) && spans[i][0] <= off && off <= spans[i][1]
}

func checkInvisibleCode(p *facts.Package) []Finding {
	var out []Finding
	for i := range p.Files {
		f := &p.Files[i]
		if f.Text == nil || f.Text.InvisibleCount == 0 || (f.Kind != facts.KindJS && f.Kind != facts.KindTS) {
			continue
		}
		var worst *Finding
		var spans [][2]int
		keep := func(sev Severity, c facts.Char, msg string) {
			if worst == nil || sev.Rank() > worst.Severity.Rank() {
				fd := at(sev, f, c.Pos, "%s", msg)
				worst = &fd
			}
		}
		for _, c := range f.Text.Invisible {
			off := c.Pos.Offset
			name := fmt.Sprintf("U+%04X", c.Rune)
			switch {
			case isBidi(c.Rune) && unpairedBidi(f.Data, off):
				keep(High, c, "a bidirectional control ("+name+") is left open at the end of the line: the code reads differently from how it runs (Trojan Source)")
			case isBidi(c.Rune):
				keep(Low, c, "a bidirectional control ("+name+") in the code, closed on the same line")
			case isHangulFiller(c.Rune):
				if spans == nil && f.JS != nil {
					spans = stringSpans(f)
				}
				if !inSpans(spans, off) {
					keep(High, c, "an invisible Hangul filler ("+name+") outside any string literal: an identifier nobody can see")
				}
			default: // zero-width space, joiners, word joiner
				size := utf8.RuneLen(c.Rune)
				if off > 0 && off+size < len(f.Data) && asciiIdent(f.Data[off-1]) && asciiIdent(f.Data[off+size]) {
					if spans == nil && f.JS != nil {
						spans = stringSpans(f)
					}
					if !inSpans(spans, off) {
						keep(High, c, "a zero-width character ("+name+") inside an identifier: two names that look the same are different")
					}
				}
			}
		}
		if worst != nil {
			out = append(out, *worst)
		}
	}
	return out
}
