package rules

import (
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// CryptoAddressRegex catches files with regular expressions that match
// cryptocurrency addresses of several chains.
var CryptoAddressRegex = &Rule{
	ID:       "VGL-A013",
	Name:     "crypto-address-regex",
	Severity: Medium,
	Category: CatCryptoData,
	Summary: "A file has regular expressions (literals or new RegExp strings) matching the address formats of " +
		"several chains — Ethereum 0x + 40 hex, Bitcoin legacy/P2SH/bech32, Litecoin, Tron, Bitcoin Cash, Solana: " +
		"low for two chains, medium for three or more.",
	Why: "To swap addresses in pages, responses or the clipboard, a payload must first find them: a table of " +
		"per-chain address patterns is its search step.",
	FalsePositives: "Multi-chain address validators (e.g. multicoin-address-validator) and form-validation " +
		"libraries with Ethereum and Bitcoin validators (validator.js bundles report low).",
	Check: checkCryptoAddressRegex,
}

// base58Class is the part of a Base58 character class that excludes I
// and O, the alphabet's signature.
const base58Class = "A-HJ-NP-Z"

// regexChains tells which address formats a regular expression matches.
func regexChains(src string) []Chain {
	var out []Chain
	add := func(c Chain) {
		for _, x := range out {
			if x == c {
				return
			}
		}
		out = append(out, c)
	}
	lower := strings.ToLower(src)
	if strings.Contains(lower, "0x") && (strings.Contains(src, "{40}") || strings.Contains(src, "{40,")) {
		add(ChainETH)
	}
	if strings.Contains(lower, "bitcoincash") || (strings.Contains(src, "[qp]") && (strings.Contains(src, "{41}") || strings.Contains(src, "{42}"))) {
		add(ChainBCH)
	}
	if strings.Contains(lower, "bc1") {
		add(ChainBTC)
	}
	if strings.Contains(lower, "ltc1") {
		add(ChainLTC)
	}
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], base58Class)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(base58Class)
		open := strings.LastIndexByte(src[:at], '[')
		if open < 0 {
			continue
		}
		prefix := leadingChars(src[:open])
		rest := src[at:]
		switch {
		case strings.ContainsAny(prefix, "13"):
			add(ChainBTC)
		}
		if strings.ContainsAny(prefix, "LMlm") {
			add(ChainLTC)
		}
		if strings.Contains(prefix, "T") {
			add(ChainTRX)
		}
		if prefix == "" || len(prefix) > 8 {
			if strings.Contains(rest, "{32,") || strings.Contains(rest, "{43,") || strings.Contains(rest, "{31,") {
				add(ChainSOL)
			}
		}
	}
	return out
}

// leadingChars returns the literal characters a regular expression
// requires just before position end: "1" for 1[…], "13" for [13][…],
// "TL" for (T|L)[…].
func leadingChars(s string) string {
	s = strings.TrimSuffix(s, "\\b")
	switch {
	case strings.HasSuffix(s, "]"):
		if i := strings.LastIndexByte(s, '['); i >= 0 {
			return s[i+1 : len(s)-1]
		}
	case strings.HasSuffix(s, ")"):
		if i := strings.LastIndexByte(s, '('); i >= 0 {
			return strings.NewReplacer("|", "", "?:", "").Replace(s[i+1 : len(s)-1])
		}
	case s != "":
		c := s[len(s)-1]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			if len(s) >= 2 && s[len(s)-2] == '\\' {
				return ""
			}
			return string(c)
		}
	}
	return ""
}

func checkCryptoAddressRegex(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		chains, pos := regexChainsIn(f.JS)
		if len(chains) < 2 {
			return
		}
		names := make([]string, 0, len(chains))
		for c := range chains {
			names = append(names, string(c))
		}
		sort.Strings(names)
		sev := Low
		if len(chains) >= 3 {
			sev = Medium
		}
		out = append(out, at(sev, f, pos, "has regular expressions matching addresses of %d chains (%s)", len(chains), strings.Join(names, ", ")))
	})
	return out
}

// regexChainsIn collects the chains a file's regular expressions match.
func regexChainsIn(f *js.Facts) (map[Chain]bool, js.Pos) {
	chains := map[Chain]bool{}
	var pos js.Pos
	note := func(src string, at js.Pos) {
		cs := regexChains(src)
		if len(cs) > 0 && pos.Line == 0 {
			pos = at
		}
		for _, c := range cs {
			chains[c] = true
		}
	}
	for _, re := range f.Regexps {
		note(re.Source, re.Pos)
	}
	for _, c := range f.Calls {
		if c.Callee == "RegExp" {
			if a := c.Arg(0); a.Kind == js.KindString {
				note(a.Str, c.Pos)
			}
		}
	}
	return chains, pos
}
