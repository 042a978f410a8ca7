package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// CryptoAddressList catches files carrying many cryptocurrency addresses
// across chains — the attacker's receiving addresses of a drainer or
// clipboard/address swapper.
var CryptoAddressList = &Rule{
	ID:       "VGL-A012",
	Name:     "crypto-address-list",
	Severity: High,
	Category: CatCryptoData,
	Summary: "A file holds cryptocurrency addresses for several chains (checksum-verified Bitcoin, Litecoin, Tron " +
		"and Bitcoin Cash addresses; Ethereum addresses; Solana keys): medium for three chains or for two with ten " +
		"addresses or more, high for four chains and twenty addresses. Strings built at run time (concatenated, " +
		"decoded from an obfuscator's string table) count.",
	Why: "Address swappers carry a list of look-alike addresses per chain to substitute for the victim's; a " +
		"library has no reason to ship real addresses of many chains.",
	FalsePositives: "Multi-chain address validators' test vectors and multi-chain wallet SDKs with built-in " +
		"contract or program addresses. Lists for one chain (viem's, @solana's program ids) do not fire.",
	Check: checkCryptoAddressList,
}

// addressesIn counts distinct addresses per chain in a file's strings.
func addressesIn(f *js.Facts) (map[Chain]map[string]bool, map[Chain]js.Pos) {
	found := map[Chain]map[string]bool{}
	first := map[Chain]js.Pos{}
	budget := 200_000
	for _, s := range f.Strings {
		if budget <= 0 {
			break
		}
		if len(s.Value) < 25 || len(s.Value) > 1<<20 {
			continue
		}
		addressTokens(s.Value, func(tok string, _ int) {
			budget--
			c, ok := ClassifyAddress(tok)
			if !ok {
				return
			}
			if found[c] == nil {
				found[c] = map[string]bool{}
				first[c] = s.Pos
			}
			found[c][tok] = true
		})
	}
	// Solana keys have no checksum: a few are noise, many are a list.
	if len(found[ChainSOL]) < 3 {
		delete(found, ChainSOL)
	}
	return found, first
}

func checkCryptoAddressList(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		sev, msg, pos := addressSummary(f.JS)
		if sev != "" {
			out = append(out, at(sev, f, pos, "%s", msg))
		}
	})
	return out
}

// addressSummary grades a file's addresses; sev is empty when it does not
// fire.
func addressSummary(f *js.Facts) (Severity, string, js.Pos) {
	found, first := addressesIn(f)
	chains, total := len(found), 0
	var parts []string
	var pos js.Pos
	var names []string
	for c := range found {
		names = append(names, string(c))
	}
	sort.Strings(names)
	for _, n := range names {
		c := Chain(n)
		total += len(found[c])
		parts = append(parts, fmt.Sprintf("%d %s", len(found[c]), n))
		if pos.Line == 0 || (first[c].Offset < pos.Offset && first[c].Line > 0) {
			pos = first[c]
		}
	}
	var sev Severity
	switch {
	case chains >= 4 && total >= 20:
		sev = High
	case chains >= 3 || (chains >= 2 && total >= 10):
		sev = Medium
	default:
		return "", "", js.Pos{}
	}
	return sev, fmt.Sprintf("holds %d cryptocurrency addresses for %d chains (%s)", total, chains, strings.Join(parts, ", ")), pos
}
