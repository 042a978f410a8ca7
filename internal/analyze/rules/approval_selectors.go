package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ApprovalSelectors catches code that recognises token approval and
// transfer calldata.
var ApprovalSelectors = &Rule{
	ID:       "VGL-A015",
	Name:     "token-approval-selectors",
	Severity: Medium,
	Category: CatCryptoData,
	Summary: "Strings hold the function selectors of token approvals and transfers — approve 0x095ea7b3, " +
		"transfer 0xa9059cbb, transferFrom 0x23b872dd, increaseAllowance 0x39509351, permit 0xd505accf, " +
		"setApprovalForAll 0xa22cb465, safeTransferFrom 0x42842e0e/0xb88d4fde, Permit2 0x2b67b570/0x30f28b7a: " +
		"low for one or two, medium for three or more or when the code tests transaction data against them " +
		"(startsWith, includes, indexOf).",
	Why: "A drainer inspects each transaction the page sends and, when it is an approval or transfer, rewrites " +
		"the spender or recipient inside the calldata; the selectors are how it recognises them.",
	FalsePositives: "Transaction decoders, wallet UIs and token SDKs that label calldata; they rarely carry " +
		"many of these constants as plain strings.",
	Check: checkApprovalSelectors,
}

var selectors = map[string]string{
	"0x095ea7b3": "approve",
	"0xa9059cbb": "transfer",
	"0x23b872dd": "transferFrom",
	"0x39509351": "increaseAllowance",
	"0xd505accf": "permit",
	"0xa22cb465": "setApprovalForAll",
	"0x42842e0e": "safeTransferFrom",
	"0xb88d4fde": "safeTransferFrom",
	"0x2b67b570": "Permit2.permit",
	"0x30f28b7a": "Permit2.permitTransferFrom",
}

// selectorOf recognises a selector, alone or heading calldata.
func selectorOf(s string) (string, bool) {
	if len(s) < 10 || (len(s) != 10 && (len(s)-10)%64 != 0) {
		return "", false
	}
	name, ok := selectors[strings.ToLower(s[:10])]
	return name, ok
}

func checkApprovalSelectors(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		found := map[string]bool{}
		var pos js.Pos
		for _, s := range f.JS.Strings {
			if name, ok := selectorOf(s.Value); ok {
				if len(found) == 0 {
					pos = s.Pos
				}
				found[strings.ToLower(s.Value[:10])+" ("+name+")"] = true
			}
		}
		if len(found) == 0 {
			return
		}
		tests := 0
		for _, c := range f.JS.Calls {
			if !(strings.HasSuffix(c.Callee, ".startsWith") || strings.HasSuffix(c.Callee, ".includes") || strings.HasSuffix(c.Callee, ".indexOf")) {
				continue
			}
			if _, ok := selectorOf(c.Arg(0).Str); ok && c.Arg(0).Kind == js.KindString {
				if tests == 0 {
					pos = c.Pos
				}
				tests++
			}
		}
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		sev := Low
		msg := fmt.Sprintf("holds token approval/transfer selectors: %s", strings.Join(names, ", "))
		if len(found) >= 3 || tests > 0 {
			sev = Medium
		}
		if tests > 0 {
			msg += fmt.Sprintf("; tests transaction data against them %s", plural(tests, "time", "times"))
		}
		out = append(out, at(sev, f, pos, "%s", msg))
	})
	return out
}
