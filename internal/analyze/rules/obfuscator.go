package rules

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ObfuscatorIO catches the fingerprints of javascript-obfuscator
// (obfuscator.io) and its imitations.
var ObfuscatorIO = &Rule{
	ID:       "VGL-A020",
	Name:     "obfuscator-io",
	Severity: High,
	Category: CatObfuscation,
	Summary: "A file shows obfuscator.io's signatures: a string table read through offset decoders (with or " +
		"without a rotation loop), a family of _0x1a2b3c-style identifiers, arithmetic made only of hex literals " +
		"(-0x1caa+0x61f*0x1). High with two signatures, medium with one. The string table is resolved statically, " +
		"so the other rules see the hidden strings.",
	Why: "Obfuscation hides what code does from reviewers and scanners. Build tools minify (short names, no " +
		"string tables) but do not obfuscate, so obfuscated code in a dependency asks for an explanation; almost " +
		"all obfuscated npm code found in the wild is malicious.",
	FalsePositives: "Commercial packages that obfuscate to protect licensing code, and obfuscation tools' own " +
		"test fixtures.",
	Check: checkObfuscatorIO,
}

// obfuscatorSignals lists the obfuscator.io signatures a file shows.
func obfuscatorSignals(f *js.Facts) (signals []string, pos js.Pos) {
	if len(f.StringArrays) > 0 {
		sa := f.StringArrays[0]
		s := fmt.Sprintf("a %d-entry string table with %s", sa.Len, plural(sa.Decoders, "decoder", "decoders"))
		switch {
		case sa.Rotated && sa.Resolved:
			s += fmt.Sprintf(", rotated %d times at start-up (resolved)", sa.Rotation)
		case sa.Rotated:
			s += ", rotated at start-up (not resolved)"
		}
		if sa.Encoding != "" {
			s += ", " + sa.Encoding + "-encoded"
		}
		signals = append(signals, s)
		pos = sa.Pos
	}
	if n := f.Idents.HexNamed; n >= 10 && n*10 >= f.Idents.Declared*3 {
		signals = append(signals, fmt.Sprintf("%d of %d identifiers named like %s", n, f.Idents.Declared, strings.Join(f.Idents.Examples[:min(2, len(f.Idents.Examples))], ", ")))
	}
	if n := f.Numbers.HexArith; n >= 5 {
		signals = append(signals, fmt.Sprintf("%d hex-literal arithmetic expressions", n))
		if pos.Line == 0 {
			pos = f.Numbers.HexArithPos
		}
	}
	return signals, pos
}

func checkObfuscatorIO(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		signals, pos := obfuscatorSignals(f.JS)
		if len(signals) == 0 {
			return
		}
		sev := Medium
		if len(signals) >= 2 {
			sev = High
		}
		if pos.Line == 0 {
			pos = js.Pos{Line: 1, Col: 1}
		}
		out = append(out, at(sev, f, pos, "obfuscated with obfuscator.io or alike: %s", strings.Join(signals, "; ")))
	})
	return out
}
