package rules

import (
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ObfuscatedWalletStrings catches obfuscated code whose hidden strings
// name wallet and request APIs, even when the string table could not be
// resolved to the exact calls.
var ObfuscatedWalletStrings = &Rule{
	ID:       "VGL-A016",
	Name:     "obfuscated-wallet-strings",
	Severity: Medium,
	Category: CatWalletHook,
	Summary: "An obfuscated file (a string table, or a family of _0x identifiers) holds two or more names of wallet " +
		"methods and RPC calls among its strings: ethereum, eth_sendTransaction, eth_requestAccounts, eth_accounts, " +
		"eth_signTypedData_v4, personal_sign, sendAsync, signTransaction, signAllTransactions, " +
		"signAndSendTransaction, solana, phantom, tronWeb, tronLink.",
	Why: "Obfuscators hide exactly the names a reviewer would search for; wallet method names inside an " +
		"obfuscated string table mean hidden code that talks to — or intercepts — the user's wallet. This rule " +
		"holds when an obfuscator variant defeats the string-table resolution the hook rules rely on.",
	FalsePositives: "Commercial wallet SDKs shipped obfuscated.",
	Check:          checkObfuscatedWallet,
}

var walletStrings = map[string]bool{
	"ethereum": true, "eth_sendTransaction": true, "eth_requestAccounts": true, "eth_accounts": true,
	"eth_signTypedData_v4": true, "personal_sign": true, "sendAsync": true, "signTransaction": true,
	"signAllTransactions": true, "signAndSendTransaction": true, "solana": true, "phantom": true,
	"tronWeb": true, "tronLink": true,
}

func checkObfuscatedWallet(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		j := f.JS
		if len(j.StringArrays) == 0 && j.Idents.HexNamed < 10 {
			return
		}
		found := map[string]bool{}
		var pos js.Pos
		for _, s := range j.Strings {
			if walletStrings[s.Value] {
				if len(found) == 0 {
					pos = s.Pos
				}
				found[s.Value] = true
			}
		}
		if len(found) < 2 {
			return
		}
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(j.StringArrays) > 0 {
			pos = j.StringArrays[0].Pos
		}
		out = append(out, at(Medium, f, pos, "obfuscated code holds wallet API names among its hidden strings: %s", strings.Join(names, ", ")))
	})
	return out
}
