package rules

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// obfuscatedShape is hand-written code with obfuscator.io's shape (a
// string table read through an offset decoder, _0x names, hex sums); it
// does nothing harmful.
func obfuscatedShape() string {
	var b strings.Builder
	b.WriteString(`function _0x2a1b(){const _0x51c0=['log','hello','world','join','map','length','push','shift'];_0x2a1b=function(){return _0x51c0;};return _0x2a1b();}`)
	b.WriteString(`function _0x3c4d(_0x1a2b3c,_0x4d5e6f){const _0x7a8b9c=_0x2a1b();return _0x3c4d=function(_0x2b3c4d,_0x5e6f7a){_0x2b3c4d=_0x2b3c4d-(-0x1d6b+-0x69e+0x240b);let _0x6f7a8b=_0x7a8b9c[_0x2b3c4d];return _0x6f7a8b;},_0x3c4d(_0x1a2b3c,_0x4d5e6f);}`)
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "const _0x%06x=-0x1caa+0x61f*0x1+-0x9c*-0x25+%d;", 0x1f2e30+i, i)
	}
	b.WriteString(`console[_0x3c4d(0x0)](_0x3c4d(0x1));`)
	return b.String()
}

// minifiedBundle is shaped like webpack/terser output: one long line,
// short names, no string table.
func minifiedBundle() string {
	var b strings.Builder
	b.WriteString(`!function(e){var t={};function n(r){if(t[r])return t[r].exports;var o=t[r]={i:r,l:!1,exports:{}};return e[r].call(o.exports,o,o.exports,n),o.l=!0,o.exports}n.m=e,n.c=t,n.d=function(e,t,r){n.o(e,t)||Object.defineProperty(e,t,{enumerable:!0,get:r})},n(n.s=0)}([`)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, `function(e,t,n){"use strict";var r=n(%d),o=n(%d);function a%d(e,t){return e.map(function(e){return r.format(e,t)+"-%d"}).filter(Boolean)}t.default=a%d;e.exports={a:a%d,b:0x%x,c:o.c}},`, i%7, (i+3)%7, i, i, i, i, i*4099)
	}
	b.WriteString(`function(e,t){e.exports={}}]);`)
	return b.String()
}

func formatted(lines int) string {
	var b strings.Builder
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "const value%d = compute(%d, 'item %d');\n", i, i, i)
	}
	return b.String()
}

func randomBase64(n int) string {
	var raw []byte
	seed := sha256.Sum256([]byte("vigil"))
	for len(raw) < n {
		seed = sha256.Sum256(seed[:])
		raw = append(raw, seed[:]...)
	}
	return base64.StdEncoding.EncodeToString(raw)[:n]
}

func TestObfuscatorIO(t *testing.T) {
	runCases(t, ObfuscatorIO, []ruleCase{
		{"string table and names", one("index.js", obfuscatedShape()), High, "string table"},
		{"hex arithmetic only", one("index.js", strings.Repeat("x.push(-0x1caa+0x61f*0x1);\n", 6)), Medium, "hex-literal arithmetic"},
		{"minified bundle", one("dist/bundle.min.js", minifiedBundle()), "", ""},
		{"crypto constants", one("sha.js", `const K = [0x428a2f98, 0x71374491, 0xb5c0fbcf]; function f(a, b) { return (a + b + 0x5a827999) | 0 }`), "", ""},
	})
}

func TestEsotericEncoding(t *testing.T) {
	jsfuck := strings.Repeat("(![]+[])[+!+[]]+([][[]]+[])[+!+[]]+", 20) + "[]"
	jj := `$=~[];$={___:++$,$$$$:(![]+"")[$],__$:++$,$_$_:(![]+"")[$],_$_:++$,$_$$:({}+"")[$],$$_$:($[$]+"")[$],_$$:++$,$$$_:(!""+"")[$],$__:++$,$_$:++$,$$__:({}+"")[$],$$_:++$,$$$:++$,$___:++$,$__$:++$};` +
		strings.Repeat(`$.$_=($.$_=$+"")[$.$_$]+($._$=$.$_[$.__$])+($.$$=($.$+"")[$.__$])+((!$)+"")[$._$$]+`, 6) + `"";`
	runCases(t, EsotericEncoding, []ruleCase{
		{"jsfuck", one("index.js", jsfuck), High, "JSFuck"},
		{"jjencode", one("index.js", jj), High, "JJEncode"},
		{"aaencode", one("index.js", `ﾟωﾟﾉ= /｀ｍ´）ﾉ ~┻━┻   //*´∇｀*/ ['_']; o=(ﾟｰﾟ)  =_=3;`), High, "aaencode"},
		{"ordinary code", one("index.js", formatted(50)+"if (!(a && b)) { x = [](); }"), "", ""},
		{"minified", one("index.js", minifiedBundle()), "", ""},
	})
}

func TestDynamicCode(t *testing.T) {
	runCases(t, DynamicCode, []ruleCase{
		{"eval", one("index.js", `eval(code)`), Low, "eval from a value computed"},
		{"new Function", one("index.js", `const f = new Function('a', 'b', body);`), Low, "Function"},
		{"setTimeout string", one("index.js", `setTimeout("alert(1)", 10)`), Low, "setTimeout with a string"},
		{"vm", one("index.js", `const vm = require('vm'); vm.runInThisContext(src)`), Low, "vm.runInThisContext"},
		{"hide require", one("index.js", `const req = eval('require');`), Low, "hiding require"},
		{"global idiom", one("index.js", `var g = Function('return this')(); var h = new Function("return this;");`), "", ""},
		{"setTimeout function", one("index.js", `setTimeout(() => tick(), 10); setInterval(tick, 5)`), "", ""},
	})
}

func TestDecodeExec(t *testing.T) {
	runCases(t, DecodeExec, []ruleCase{
		{"eval atob", one("index.js", `eval(atob('Y29uc29sZS5sb2coImhpIik='))`), High, "base64"},
		{"Function of a buffer", one("index.js", `const s = Buffer.from(p, 'base64').toString(); new Function(s)();`), High, "Function"},
		{"char codes", one("index.js", `eval(String.fromCharCode(97, 108, 101, 114, 116, 40, 49, 41))`), High, "char-codes"},
		{"local decoder", one("index.js", `function d(x) { return Buffer.from(x, 'hex').toString() } setTimeout(d('616c65727428312)'), 1)`), "", ""},
		{"local decoder to eval", one("index.js", `function d(x) { return Buffer.from(x, 'hex').toString() } eval(d(payload))`), High, "decoder-call"},
		{"decoded require", one("index.js", `require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()).exec('x')`), High, "require"},
		{"decoded command", one("index.js", `require('child_process').exec(atob(cmd))`), High, "child_process.exec"},
		// Negatives.
		{"plain eval", one("index.js", `eval(code)`), "", ""},
		{"wasm", one("index.js", `WebAssembly.instantiate(Buffer.from(wasmBase64, 'base64'), imports)`), "", ""},
		{"decode for display", one("index.js", `const msg = atob(encoded); console.log(msg); document.title = msg;`), "", ""},
	})
}

func TestHiddenWhitespace(t *testing.T) {
	pad := strings.Repeat(" ", 200)
	runCases(t, HiddenWhitespace, []ruleCase{
		{"appended code", one("index.js", "module.exports = add;"+pad+"require('child_process').exec('id');\n"), Medium, "after 200 spaces"},
		{"tabs", one("index.js", "x();"+strings.Repeat("\t", 160)+"y();\n"), Medium, "160 spaces or tabs"},
		{"deep indentation", one("index.js", pad+"return x;\n"), "", ""},
		{"trailing whitespace", one("index.js", "x();"+pad+"\ny();\n"), "", ""},
		{"aligned comment", one("index.js", "x();"+pad+"// explained\n"), "", ""},
	})
}

func TestInjectedLongLine(t *testing.T) {
	top, bottom := formatted(20), formatted(30)
	runCases(t, InjectedLongLine, []ruleCase{
		{"obfuscated line", one("index.js", top+strings.Repeat(obfuscatedShape(), 6)+"\n"+bottom), Medium, "obfuscated line"},
		{"packed blob", one("index.js", top+"const blob = '"+randomBase64(6000)+"';\n"+bottom), Low, "high-entropy line"},
		{"minified bundle", one("dist/app.js", minifiedBundle()+"\n"+minifiedBundle()), "", ""},
		{"source map comment", one("index.js", top+"//# sourceMappingURL=data:application/json;base64,"+randomBase64(6000)+"\n"), "", ""},
		{"word list", one("words.js", top+"const words = ['"+strings.Repeat("apple', 'banana', 'cherry', '", 200)+"'];\n"+bottom), "", ""},
		{"crc table", one("crc.js", top+"const table = ["+strings.Repeat("0x77073096, 0xee0e612c, 0x990951ba, ", 150)+"];\n"+bottom), "", ""},
	})
}
