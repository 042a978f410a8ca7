package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// InjectedLongLine catches one enormous line in an otherwise ordinary
// source file.
var InjectedLongLine = &Rule{
	ID:       "VGL-A025",
	Name:     "injected-long-line",
	Severity: Medium,
	Category: CatObfuscation,
	Summary: "A formatted source file (median line at most 100 bytes) has a line of 2,000 bytes or more, twenty " +
		"times its median or longer, that is not a comment: medium when the line is obfuscated (ten or more _0x " +
		"identifiers or hex-literal sums like 0x1f*0x2+-0x3), low when it is high-entropy text (≥ 5.2 bits per byte). Minified files — every " +
		"line long — are left to the obfuscation rules, so ordinary webpack/esbuild/terser output stays clean.",
	Why: "Compromised releases are often the previous release plus one appended or inserted line of packed code " +
		"(the chalk/debug payload was a single 76 KB line a few lines into the main file).",
	FalsePositives: "Hand-written files embedding a data table, a base64 asset or a Unicode regular expression " +
		"on one line report low at most.",
	Check: checkInjectedLongLine,
}

func checkInjectedLongLine(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		t := f.Text
		if t == nil || t.Lines < 5 || t.MedianLine > 100 {
			return
		}
		for _, l := range t.LongLines {
			if l.Comment || l.Len < 2000 || l.Len < 20*max(t.MedianLine, 10) {
				continue
			}
			switch {
			case l.HexNames >= 10 || l.HexArith >= 10:
				out = append(out, at(Medium, f, l.Pos, "a %d-byte obfuscated line (%d _0x identifiers, %d hex-literal sums and products) in a file whose median line is %d bytes", l.Len, l.HexNames, l.HexArith, t.MedianLine))
			case l.Entropy >= 5.2:
				out = append(out, at(Low, f, l.Pos, "a %d-byte high-entropy line (%.1f bits/byte) in a file whose median line is %d bytes", l.Len, l.Entropy, t.MedianLine))
			default:
				continue
			}
			return
		}
	})
	return out
}
