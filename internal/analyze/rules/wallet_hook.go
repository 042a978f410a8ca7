package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// WalletHook catches code that replaces a browser wallet's methods.
var WalletHook = &Rule{
	ID:       "VGL-A011",
	Name:     "wallet-provider-hook",
	Severity: High,
	Category: CatWalletHook,
	Summary: "Code replaces the signing and request methods of an injected wallet — window.ethereum.request/send/" +
		"sendAsync/enable, Solana/Phantom/Solflare sign*/request/connect, TronWeb/TronLink signing, " +
		"BinanceChain, OKX, Coinbase — or wraps the provider in a Proxy of itself (high); defining or replacing " +
		"the provider object otherwise is low.",
	Why: "A wrapped provider sees, and can rewrite, every transaction before the user signs it: the chalk/debug " +
		"payload wrapped ethereum.request/send/sendAsync to redirect transfers and approvals to the attacker. " +
		"Libraries talk to wallets through these methods; they do not replace them.",
	FalsePositives: "Wallet extensions' in-page scripts and wallet-mocking test tools (e.g. web3-mock, " +
		"synpress) define the provider (low) or stub these methods (high); they are not normally npm " +
		"dependencies of applications.",
	Check: checkWalletHook,
}

// walletRoots are the globals wallets inject.
var walletRoots = []string{"ethereum", "phantom.ethereum", "phantom.solana", "solana", "solflare", "tronWeb", "tronLink",
	"BinanceChain", "okxwallet", "coinbaseWalletExtension", "trustwallet", "backpack", "braveSolana", "xfi", "keplr"}

// walletMethods are the methods through which a page asks a wallet to act.
var walletMethods = map[string]bool{
	"request": true, "send": true, "sendAsync": true, "enable": true,
	"signTransaction": true, "signAllTransactions": true, "signAndSendTransaction": true, "signMessage": true,
	"signIn": true, "connect": true, "sign": true, "signPersonalMessage": true, "sendRawTransaction": true,
	"sendTransaction": true, "signTypedData": true, "trx.sign": true, "trx.sendRawTransaction": true,
	"trx.signMessageV2": true, "signAmino": true, "signDirect": true,
}

func walletTarget(target string) (root, method string, ok bool) {
	for _, r := range walletRoots {
		if target == r {
			return r, "", true
		}
		if rest, found := strings.CutPrefix(target, r+"."); found && walletMethods[rest] {
			return r, rest, true
		}
	}
	return "", "", false
}

func checkWalletHook(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		seen := map[string]bool{}
		for _, a := range f.JS.Assigns {
			root, method, ok := walletTarget(a.Target)
			if !ok || seen[a.Target] {
				continue
			}
			seen[a.Target] = true
			how := "replaces"
			if a.Via != "=" {
				how = "redefines (" + a.Via + ")"
			}
			if method == "" {
				if a.Value.Wraps == root {
					out = append(out, at(High, f, a.Pos, "%s the %s provider with a Proxy around itself: every wallet request passes through this code%s", how, root, decodedNote(a.NameOrigin)))
					continue
				}
				// Defining the provider is what wallets' in-page scripts and
				// test mocks do.
				out = append(out, at(Low, f, a.Pos, "%s the %s provider object%s", how, root, decodedNote(a.NameOrigin)))
				continue
			}
			out = append(out, at(High, f, a.Pos, "%s %s.%s: every wallet request passes through this code before the user signs%s", how, root, method, decodedNote(a.NameOrigin)))
		}
	})
	return out
}
