package rules

import (
	"fmt"
	"strings"
	"testing"
)

func TestClassifyAddress(t *testing.T) {
	for _, c := range []Chain{ChainBTC, ChainLTC, ChainTRX, ChainBCH, ChainETH, ChainSOL} {
		for i := 0; i < 4; i++ {
			a := addr(c, i)
			if got, ok := ClassifyAddress(a); !ok || got != c {
				t.Errorf("%s %q classified %q, %v", c, a, got, ok)
			}
		}
	}
	for _, s := range []string{
		"1BoatSLRHtKNngkdXEeobR76b53LETtpyX", // checksum broken (last characters altered)
		"0x0000000000000000000000000000000000000000",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", // bech32 checksum broken
		"abcdefghijkmnopqrstuvwxyzabcdefghijk",
		"TokenkegQfeZyiNwAJbNbGKPFXCWU9aJ4ZsjmQ6NpBCU"[:20],
	} {
		if c, ok := ClassifyAddress(s); ok && c != ChainSOL {
			t.Errorf("%q classified as %s", s, c)
		}
	}
}

func TestNetworkHook(t *testing.T) {
	runCases(t, NetworkHook, []ruleCase{
		{"fetch wrapper", one("index.js", `const orig = window.fetch; window.fetch = async (...a) => { const r = await orig(...a); return r; };`), Low, "assigns fetch"},
		{"xhr open", one("index.js", "XMLHttpRequest.prototype.open = function (m, u) { this._u = u; return open.apply(this, arguments); };"), Low, "XMLHttpRequest.prototype.open"},
		{"defineProperty", one("index.js", `Object.defineProperty(globalThis, 'fetch', { value: hooked, writable: true });`), Low, "redefines (Object.defineProperty) fetch"},
		{"msw-style proxy", one("index.js", `globalThis.fetch = new Proxy(globalThis.fetch, { apply(t, th, args) { return Reflect.apply(t, th, args) } });`), Low, "fetch"},
		// Negatives: using the APIs is not replacing them.
		{"ethers-style fetch use", one("index.js", `async function send(url, body) { const res = await fetch(url, { method: 'POST', body }); return res.json(); }`), "", ""},
		{"axios-style xhr use", one("index.js", `function xhrAdapter(config) { const request = new XMLHttpRequest(); request.open(config.method, config.url, true); request.send(config.data); }`), "", ""},
		{"own property named fetch", one("index.js", `class Client { constructor() { this.fetch = this.fetch.bind(this) } } module.exports.fetch = fetch;`), "", ""},
	})
}

func TestWalletHook(t *testing.T) {
	runCases(t, WalletHook, []ruleCase{
		{"request override", one("index.js", `const orig = window.ethereum.request; window.ethereum.request = async function (args) { return orig.call(this, args) };`), High, "ethereum.request"},
		{"alias", one("index.js", `const p = window.ethereum; p.sendAsync = function (payload, cb) { cb(null, {}) };`), High, "ethereum.sendAsync"},
		{"defineProperty loop", one("index.js", `function shield(p) { for (const m of ['request', 'send']) { Object.defineProperty(p, m, { value: wrap(p[m]) }) } } shield(window.ethereum);`), High, "ethereum.request"},
		{"solana", one("index.js", `window.solana.signTransaction = async (tx) => tamper(tx);`), High, "solana.signTransaction"},
		{"phantom", one("index.js", `window.phantom.solana.signAllTransactions = async (txs) => txs;`), High, "phantom.solana.signAllTransactions"},
		{"tron", one("index.js", `window.tronWeb.trx.sign = async (tx) => tx;`), High, "tronWeb.trx.sign"},
		{"provider replaced by a proxy", one("index.js", `window.ethereum = new Proxy(window.ethereum, { get(t, k) { return t[k] } });`), High, "Proxy around itself"},
		{"provider injected", one("inpage.js", `function setGlobalProvider(p) { window.ethereum = p; window.dispatchEvent(new Event('ethereum#initialized')); }`), Low, "provider object"},
		// Negatives: dapps and libraries call wallets, they do not patch them.
		{"ethers BrowserProvider", one("index.js", `import { BrowserProvider } from 'ethers'; export async function connect() { const provider = new BrowserProvider(window.ethereum); await window.ethereum.request({ method: 'eth_requestAccounts' }); return provider.getSigner(); }`), "", ""},
		{"web3 events", one("index.js", `if (typeof window.ethereum !== 'undefined') { window.web3 = new Web3(window.ethereum); window.ethereum.on('accountsChanged', (a) => setAccount(a[0])); }`), "", ""},
		{"solana adapter", one("index.js", `export async function sign(tx) { const { publicKey } = await window.solana.connect(); return window.solana.signTransaction(tx); }`), "", ""},
	})
}

func TestCryptoAddressList(t *testing.T) {
	split := func(s string) string { return "'" + s[:10] + "'+'" + s[10:20] + "'+'" + s[20:] + "'" }
	var chunked []string
	for _, c := range []Chain{ChainBTC, ChainTRX, ChainLTC} {
		for i := 0; i < 4; i++ {
			chunked = append(chunked, split(addr(c, i)))
		}
	}
	runCases(t, CryptoAddressList, []ruleCase{
		{"three chains", one("index.js", "const a = "+addrList(3, ChainBTC, ChainTRX, ChainETH)+";"), Medium, "3 chains"},
		{"six chains", one("index.js", "const a = "+addrList(5, ChainBTC, ChainLTC, ChainTRX, ChainBCH, ChainETH, ChainSOL)+";"), High, "6 chains"},
		{"assembled from pieces", one("index.js", "const a = ["+strings.Join(chunked, ",")+"];"), Medium, "3 chains"},
		{"two chains many", one("index.js", "const a = "+addrList(6, ChainETH, ChainTRX)+";"), Medium, "2 chains"},
		// Negatives.
		{"viem-style contract table (one chain)", one("chains.js", "export const contracts = "+addrList(40, ChainETH)+";"), "", ""},
		{"solana program ids (one chain)", one("programs.js", "export const ids = "+addrList(20, ChainSOL)+";"), "", ""},
		{"two donation addresses", one("index.js", fmt.Sprintf("const donate = {btc: '%s', eth: '%s'};", addr(ChainBTC, 0), addr(ChainETH, 0))), "", ""},
		{"broken checksums", one("index.js", "const a = "+corrupted(4, ChainBTC, ChainLTC, ChainTRX)+";"), "", ""},
	})
}

func TestCryptoAddressRegex(t *testing.T) {
	drainer := `const re = {
  eth: /\b0x[a-fA-F0-9]{40}\b/g,
  btc: /\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b/g,
  seg: /\bbc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{11,71}\b/g,
  trx: /\bT[1-9A-HJ-NP-Za-km-z]{33}\b/g,
  sol: /[1-9A-HJ-NP-Za-km-z]{32,44}/g,
};`
	runCases(t, CryptoAddressRegex, []ruleCase{
		{"drainer table", one("index.js", drainer), Medium, "4 chains"},
		{"RegExp strings", one("index.js", `const a = new RegExp('0x[0-9a-f]{40}'), b = RegExp('ltc1[a-z0-9]{20,80}'), c = new RegExp('bitcoincash:[qp][a-z0-9]{41}');`), Medium, "3 chains"},
		{"validator.js-style (two chains)", one("validator.js", `const eth = /^(0x)[0-9a-f]{40}$/i; const bech = /^(bc1|tb1)[a-ac-hj-np-z02-9]{39,59}$/; const b58 = /^(1|3)[A-HJ-NP-Za-km-z1-9]{25,39}$/;`), Low, "2 chains"},
		{"one chain", one("index.js", `export const isAddress = (a) => /^0x[0-9a-fA-F]{40}$/.test(a);`), "", ""},
		{"ordinary regexes", one("index.js", `const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}$/i, hex = /^0x[0-9a-f]+$/, ws = /\s+/g;`), "", ""},
	})
}

const levenshtein = `function distance(a, b) {
  const m = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = 0; i <= a.length; i++) m[i][0] = i;
  for (let j = 0; j <= b.length; j++) m[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      m[i][j] = Math.min(m[i - 1][j] + 1, m[i][j - 1] + 1, m[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return m[a.length][b.length];
}
`

func TestAddressLookalike(t *testing.T) {
	runCases(t, AddressLookalike, []ruleCase{
		{"closest attacker address", one("index.js", levenshtein+"const mine = "+addrList(4, ChainBTC, ChainETH)+";\nconst pick = (v) => mine.reduce((b, x) => distance(x, v) < distance(b, v) ? x : b);"), High, "edit distance"},
		{"with address patterns", one("index.js", levenshtein+`const re = [/0x[a-fA-F0-9]{40}/g, /T[1-9A-HJ-NP-Za-km-z]{33}/g];`), High, "2 chains"},
		// Negatives.
		{"did-you-mean", one("cli.js", levenshtein+`function suggest(cmd, known) { return known.filter((k) => distance(k, cmd) < 3); }`), "", ""},
		{"addresses without distance", one("index.js", "const a = "+addrList(4, ChainBTC, ChainETH)+";"), "", ""},
	})
}

func TestApprovalSelectors(t *testing.T) {
	runCases(t, ApprovalSelectors, []ruleCase{
		{"rewrites approvals", one("index.js", `function fix(tx) { if (tx.data.startsWith('0x095ea7b3')) { tx.data = '0x095ea7b3' + attacker.slice(2).padStart(64, '0') + tx.data.slice(74); } return tx; }`), Medium, "tests transaction data"},
		{"many selectors", one("index.js", `const S = { approve: '0x095ea7b3', transfer: '0xa9059cbb', transferFrom: '0x23b872dd', permit: '0xd505accf' };`), Medium, "approve"},
		{"one label", one("decoder.js", `const labels = { '0xa9059cbb': 'Transfer' };`), Low, "transfer"},
		// Negatives.
		{"ethers ABI", one("erc20.js", `export const abi = ['function approve(address spender, uint256 amount) returns (bool)', 'function transfer(address to, uint256 amount) returns (bool)'];`), "", ""},
		{"other hex", one("index.js", `const a = '0xdeadbeef', b = '0x12345678', c = '0x095ea7b3ff';`), "", ""},
	})
}

func TestObfuscatedWalletStrings(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "var _0x%04x=%d;", 0x3a10+i, i)
	}
	runCases(t, ObfuscatedWalletStrings, []ruleCase{
		{"hidden names", one("index.js", b.String()+`var _0x9f01=['ethereum','eth_sendTransaction','sendAsync','log'];`), Medium, "eth_sendTransaction, ethereum, sendAsync"},
		{"plain dapp code", one("index.js", `await window.ethereum.request({ method: 'eth_sendTransaction', params: [tx] }); provider.sendAsync(p, cb);`), "", ""},
		{"obfuscated without wallet names", one("index.js", b.String()+`var _0x9f01=['log','push','shift'];`), "", ""},
	})
}

// corrupted lists addresses with one character changed: checksums fail.
func corrupted(n int, chains ...Chain) string {
	var parts []string
	for _, c := range chains {
		for i := 0; i < n; i++ {
			a := []byte(addr(c, i))
			k := len(a) / 2
			if a[k] == 'z' {
				a[k] = 'y'
			} else {
				a[k] = 'z'
			}
			parts = append(parts, "'"+string(a)+"'")
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
