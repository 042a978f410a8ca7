package rules

import (
	"bytes"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// HomoglyphIdentifier catches identifiers spelt with look-alike letters.
var HomoglyphIdentifier = &Rule{
	ID:       "VGL-A082",
	Name:     "homoglyph-identifier",
	Severity: High,
	Category: CatPayload,
	Summary: "A declared identifier mixes Latin letters with Cyrillic or Greek letters drawn the same (isАdmin " +
		"with a Cyrillic А) — medium; high when the all-Latin spelling also appears in the file, so two names " +
		"that look identical mean different things.",
	Why: "Look-alike names let a patch define a second function or variable that reviewers read as the " +
		"original: the check that runs is not the one on the screen.",
	FalsePositives: "Code written with a Cyrillic or Greek keyboard layout that slipped one letter into a name; " +
		"names written wholly in another script, and Greek letters used as mathematical symbols (Δ, λ, σ), are " +
		"not reported.",
	Check: checkHomoglyphIdentifier,
}

// latinSkeleton replaces look-alike letters with the Latin ones they
// imitate.
var latinSkeleton = strings.NewReplacer(
	"а", "a", "в", "B", "е", "e", "к", "k", "м", "M", "н", "H", "о", "o", "р", "p", "с", "c", "т", "T", "у", "y", "х", "x",
	"і", "i", "ј", "j", "ѕ", "s", "ԁ", "d", "ԛ", "q", "ԝ", "w", "ӏ", "l",
	"А", "A", "В", "B", "Е", "E", "К", "K", "М", "M", "Н", "H", "О", "O", "Р", "P", "С", "C", "Т", "T", "Х", "X",
	"І", "I", "Ј", "J", "Ѕ", "S",
	"Α", "A", "Β", "B", "Ε", "E", "Ζ", "Z", "Η", "H", "Ι", "I", "Κ", "K", "Μ", "M", "Ν", "N", "Ο", "O", "Ρ", "P",
	"Τ", "T", "Υ", "Y", "Χ", "X", "ο", "o",
)

// wholeWord reports whether name occurs in data as a whole identifier.
func wholeWord(data []byte, name string) int {
	for off := 0; off < len(data); {
		i := bytes.Index(data[off:], []byte(name))
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(name)
		if (i == 0 || !asciiIdent(data[i-1])) && (end >= len(data) || !asciiIdent(data[end])) {
			return i
		}
		off = i + 1
	}
	return -1
}

func checkHomoglyphIdentifier(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		var worst *Finding
		for _, name := range f.JS.Idents.Confusable {
			at0 := wholeWord(f.Data, name)
			pos := js.Pos{}
			if at0 >= 0 {
				pos = posAt(f.Data, at0)
			}
			sev, msg := Medium, "declares "+Sanitize(name, 40)+", which mixes Latin letters with Cyrillic or Greek look-alikes"
			if twin := latinSkeleton.Replace(name); wholeWord(f.Data, twin) >= 0 {
				sev, msg = High, "declares "+Sanitize(name, 40)+", a look-alike of "+Sanitize(twin, 40)+" in the same file: two names that read the same are different"
			}
			if worst == nil || sev.Rank() > worst.Severity.Rank() {
				fd := at(sev, f, pos, "%s", msg)
				worst = &fd
			}
		}
		if worst != nil {
			out = append(out, *worst)
		}
	})
	return out
}
