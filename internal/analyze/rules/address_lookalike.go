package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// AddressLookalike catches edit-distance code working on crypto
// addresses.
var AddressLookalike = &Rule{
	ID:       "VGL-A014",
	Name:     "address-lookalike-swap",
	Severity: High,
	Category: CatAddressSwap,
	Summary: "A file computes an edit distance (Levenshtein: Math.min of three neighbours inside two nested loops) " +
		"and also carries crypto addresses or address patterns of two chains or more.",
	Why: "Choosing, from a list, the attacker address that looks most like the victim's is how address swappers " +
		"defeat a glance at the first and last characters: the chalk/debug payload did exactly this.",
	FalsePositives: "A library that both suggests 'did you mean' corrections and validates several chains' " +
		"addresses in one file; none is known.",
	Check: checkAddressLookalike,
}

// editDistance finds a Levenshtein-style minimum in nested loops.
func editDistance(f *js.Facts) (js.Pos, bool) {
	for _, c := range f.Calls {
		if c.Callee == "Math.min" && c.ArgCount >= 3 && c.LoopDepth >= 2 {
			return c.Pos, true
		}
	}
	return js.Pos{}, false
}

func checkAddressLookalike(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		pos, ok := editDistance(f.JS)
		if !ok {
			return
		}
		found, _ := addressesIn(f.JS)
		regex, _ := regexChainsIn(f.JS)
		chains := map[Chain]bool{}
		for c := range found {
			chains[c] = true
		}
		for c := range regex {
			chains[c] = true
		}
		if len(chains) < 2 {
			return
		}
		out = append(out, at(High, f, pos, "computes an edit distance (Levenshtein) in a file with addresses or address patterns of %d chains: the mark of swapping a victim's address for the most similar attacker address", len(chains)))
	})
	return out
}
