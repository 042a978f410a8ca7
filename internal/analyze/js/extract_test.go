package js

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func extract(t *testing.T, src string) *Facts {
	t.Helper()
	f, err := Extract(context.Background(), []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func findCall(f *Facts, callee string) *Call {
	for i := range f.Calls {
		if f.Calls[i].Callee == callee {
			return &f.Calls[i]
		}
	}
	return nil
}

func findAssign(f *Facts, target string) *Assign {
	for i := range f.Assigns {
		if f.Assigns[i].Target == target {
			return &f.Assigns[i]
		}
	}
	return nil
}

func findString(f *Facts, v string) *String {
	for i := range f.Strings {
		if f.Strings[i].Value == v {
			return &f.Strings[i]
		}
	}
	return nil
}

func callees(f *Facts) string {
	var s []string
	for _, c := range f.Calls {
		s = append(s, c.Callee)
	}
	return strings.Join(s, ", ")
}

func targets(f *Facts) string {
	var s []string
	for _, a := range f.Assigns {
		s = append(s, a.Target+" via "+a.Via)
	}
	return strings.Join(s, ", ")
}

func TestCallees(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // callees that must be present
		not       []string // callees that must be absent
	}{
		{"require member", `require('child_process').exec('id')`, []string{"require('child_process').exec"}, nil},
		{"alias", `const cp = require("child_process"); cp.execSync("id")`, []string{"require('child_process').execSync"}, nil},
		{"destructured", `const { exec: run, spawn } = require('child_process'); run('a'); spawn('b')`,
			[]string{"require('child_process').exec", "require('child_process').spawn"}, nil},
		{"node prefix", `require('node:child_process').spawn('x')`, []string{"require('child_process').spawn"}, nil},
		{"import named", `import { exec as e } from 'node:child_process'; e('x')`, []string{"require('child_process').exec"}, nil},
		{"import namespace", `import * as cp from 'child_process'; cp.fork('x')`, []string{"require('child_process').fork"}, nil},
		{"import default", `import https from 'https'; https.get('https://x')`, []string{"require('https').get"}, nil},
		{"folded module name", `require('chi' + 'ld_pro' + 'cess').exec('id')`, []string{"require('child_process').exec"}, nil},
		{"char codes", `const m = String.fromCharCode(102,115); require(m).readFileSync('/etc/passwd')`, []string{"require('fs').readFileSync"}, nil},
		{"computed member", `const k = 'ex' + 'ec'; require('child_process')[k]('id')`, []string{"require('child_process').exec"}, nil},
		{"global alias", `window.fetch('/x'); globalThis.eval('1'); self['atob']('eA==')`, []string{"fetch", "eval", "atob"}, nil},
		{"local shadows global", `function f(fetch) { fetch('/x') }`, nil, []string{"fetch"}},
		{"method on local is named with ~", `function f(s) { return s.startsWith('0x') }`, []string{"~s.startsWith"}, nil},
		{"new", `new Function('a', 'return a')`, []string{"Function"}, nil},
		{"proxy call", `const o = {'aB': function(f, x) { return f(x); }}; o['aB'](eval, 'code')`, []string{"eval"}, nil},
		{"param bound by its only call site", `function hook(p) { p.request('x') } hook(window.ethereum)`, []string{"ethereum.request"}, nil},
		{"loop counter is not a constant", `for (let i = 0; i < 3; i++) { require('m' + i) }`, nil, []string{"require('m0')"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			if f.Mode != ModeAST {
				t.Fatalf("mode %s, parse error %v", f.Mode, f.ParseError)
			}
			for _, w := range tt.want {
				if findCall(f, w) == nil {
					t.Errorf("no call %q; have %s", w, callees(f))
				}
			}
			for _, n := range tt.not {
				if findCall(f, n) != nil {
					t.Errorf("unexpected call %q", n)
				}
			}
		})
	}
}

func TestAssigns(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
		not       []string
	}{
		{"window.fetch", `window.fetch = function () {}`, []string{"fetch via ="}, nil},
		{"globalThis bracket", `globalThis['fet' + 'ch'] = async () => {}`, []string{"fetch via ="}, nil},
		{"bare global", `fetch = null`, []string{"fetch via ="}, nil},
		{"xhr prototype", `XMLHttpRequest.prototype.open = function () {}`, []string{"XMLHttpRequest.prototype.open via ="}, nil},
		{"prototype alias", `const p = XMLHttpRequest.prototype; p.send = function () {}`, []string{"XMLHttpRequest.prototype.send via ="}, nil},
		{"defineProperty", `Object.defineProperty(window, 'ethereum', { get() { return x } })`, []string{"ethereum via Object.defineProperty"}, nil},
		{"defineProperty nested", `Object.defineProperty(window.ethereum, 'request', { value: f })`, []string{"ethereum.request via Object.defineProperty"}, nil},
		{"defineProperty over a constant list", `const p = window.ethereum; for (const m of ['request', 'send']) { Object.defineProperty(p, m, { value: 1 }) }`,
			[]string{"ethereum.request via Object.defineProperty", "ethereum.send via Object.defineProperty"}, nil},
		{"Object.assign", `Object.assign(XMLHttpRequest.prototype, { open: a, send: b })`,
			[]string{"XMLHttpRequest.prototype.open via Object.assign", "XMLHttpRequest.prototype.send via Object.assign"}, nil},
		{"Reflect.set", `Reflect.set(window, 'fetch', f)`, []string{"fetch via Reflect.set"}, nil},
		{"local object ignored", `const o = {}; o.fetch = 1; this.open = 2`, nil, []string{"fetch via =", "open via ="}},
		{"exports ignored", `module.exports.fetch = 1; exports.open = 2`, nil, []string{"module.exports.fetch via =", "exports.open via ="}},
		{"member of a parameter", `function f(w) { w.fetch = 1 }`, nil, []string{"fetch via ="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			got := targets(f)
			for _, w := range tt.want {
				if !strings.Contains(", "+got+",", ", "+w+",") {
					t.Errorf("no assignment %q; have %s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(", "+got+",", ", "+n+",") {
					t.Errorf("unexpected assignment %q", n)
				}
			}
		})
	}
}

func TestStringsAndOrigins(t *testing.T) {
	tests := []struct {
		name, src, want string
		folded          bool
		origin          Origin
	}{
		{"escapes", `x = "\x63hild_\u0070rocess"`, "child_process", false, 0},
		{"code point escape", `x = '\u{1F600}'`, "😀", false, 0},
		{"template", "x = `abc`", "abc", false, 0},
		{"concat", `x = 'chi' + "ld_" + 'process'`, "child_process", true, FromConcat},
		{"char codes", `x = String.fromCharCode(0x65, 118, 97, 108)`, "eval", true, FromCharCodes},
		{"atob", `x = atob('ZXZhbA==')`, "eval", true, FromBase64},
		{"buffer base64", `x = Buffer.from('ZXZhbA', 'base64').toString()`, "eval", true, FromBase64},
		{"buffer hex", `x = Buffer.from('6576616c', 'hex').toString('utf8')`, "eval", true, FromHex},
		{"reverse", `x = 'lave'.split('').reverse().join('')`, "eval", true, FromReverse},
		{"template with constant", "const a = 'ev'; x = `${a}al`", "eval", true, FromConcat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			s := findString(f, tt.want)
			if s == nil {
				var have []string
				for _, s := range f.Strings {
					have = append(have, s.Value)
				}
				t.Fatalf("no string %q; have %q", tt.want, have)
			}
			if s.Folded != tt.folded || s.Origin&tt.origin != tt.origin {
				t.Errorf("folded=%v origin=%s, want folded=%v origin ⊇ %s", s.Folded, s.Origin, tt.folded, tt.origin)
			}
		})
	}
}

func TestDecodeOriginReachesSink(t *testing.T) {
	tests := []struct {
		name, src, callee string
		decoded           bool
	}{
		{"eval atob", `eval(atob('Y29uc29sZS5sb2coMSk='))`, "eval", true},
		{"through a variable", `const c = Buffer.from(p, 'base64').toString(); new Function(c)()`, "Function", true},
		{"through a local decoder", `function d(s) { return Buffer.from(s, 'base64').toString() } eval(d(x))`, "eval", true},
		{"plain eval", `eval(code)`, "eval", false},
		{"constant", `eval('1 + 1')`, "eval", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			c := findCall(f, tt.callee)
			if c == nil {
				t.Fatalf("no call %s; have %s", tt.callee, callees(f))
			}
			o := Origin(0)
			for _, a := range c.Args {
				o |= a.Origin
			}
			if o.Decoded() != tt.decoded {
				t.Errorf("origin %q decoded=%v, want %v", o, o.Decoded(), tt.decoded)
			}
		})
	}
}

func TestImports(t *testing.T) {
	f := extract(t, `import a from './a.js'; export * from "b"; const c = require('c'); require(x); import('d'); import(y)`)
	want := map[string]bool{"./a.js": false, "b": false, "c": false, "d": false}
	computed, dynamic := 0, 0
	for _, i := range f.Imports {
		if _, ok := want[i.Module]; ok {
			want[i.Module] = true
		}
		if i.Computed {
			computed++
		}
		if i.Dynamic {
			dynamic++
		}
	}
	for m, ok := range want {
		if !ok {
			t.Errorf("import %q missing: %+v", m, f.Imports)
		}
	}
	if computed != 2 || dynamic != 2 {
		t.Errorf("computed=%d dynamic=%d, want 2 and 2: %+v", computed, dynamic, f.Imports)
	}
}

func TestPositions(t *testing.T) {
	src := "const a = 1;\n\n  eval(a);\nfoo.bar(eval(b), 'x');\nwindow.fetch = g\n"
	f := extract(t, src)
	var evals []Pos
	for _, c := range f.Calls {
		if c.Callee == "eval" {
			evals = append(evals, c.Pos)
		}
	}
	if len(evals) != 2 || evals[0].Line != 3 || evals[0].Col != 3 || evals[1].Line != 4 || evals[1].Col != 9 {
		t.Errorf("eval positions %+v, want 3:3 and 4:9", evals)
	}
	if a := findAssign(f, "fetch"); a == nil || a.Pos.Line != 5 || a.Pos.Col != 1 {
		t.Errorf("fetch assignment at %+v, want 5:1", a)
	}
	if s := findString(f, "x"); s == nil || s.Pos.Line != 4 || s.Pos.Col != 18 {
		t.Errorf("string at %+v, want 4:18", s)
	}
}

func TestIdentAndNumberShapes(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "var _0x%05x=-0x1a2+0x3*0x4f;\n", 0x1a2b0+i)
	}
	f := extract(t, b.String())
	if f.Idents.HexNamed != 20 || f.Numbers.HexArith != 20 || f.Numbers.Hex != 60 {
		t.Errorf("hex names %d, hex arith %d, hex literals %d; want 20, 20, 60", f.Idents.HexNamed, f.Numbers.HexArith, f.Numbers.Hex)
	}
	f = extract(t, `var a=1,b=2;function c(d,e){return d+e+0x10}`)
	if f.Idents.HexNamed != 0 || f.Numbers.HexArith != 0 || f.Idents.Short != 5 {
		t.Errorf("minified: %+v %+v", f.Idents, f.Numbers)
	}
}

func TestLexicalFallback(t *testing.T) {
	// TypeScript does not parse as JavaScript; the lexical scan still sees
	// calls, assignments, strings and imports.
	src := `import { exec } from 'child_process';
interface X { a: string }
const run = (cmd: string): void => { require('child_process').execSync(cmd) };
window.fetch = async (u: string) => null;
const re = /0x[a-f0-9]{40}/g;
`
	f := extract(t, src)
	if f.Mode != ModeLexical || f.ParseError == nil || f.ParseError.Pos.Line == 0 {
		t.Fatalf("mode %s, parse error %+v", f.Mode, f.ParseError)
	}
	if findCall(f, "require('child_process').execSync") == nil && findCall(f, "require") == nil {
		t.Errorf("no require call: %s", callees(f))
	}
	if findAssign(f, "fetch") == nil {
		t.Errorf("no fetch assignment: %s", targets(f))
	}
	if len(f.Regexps) != 1 || f.Regexps[0].Source != "0x[a-f0-9]{40}" {
		t.Errorf("regexps %+v", f.Regexps)
	}
	found := false
	for _, i := range f.Imports {
		found = found || i.Module == "child_process"
	}
	if !found {
		t.Errorf("imports %+v", f.Imports)
	}
}

func TestTopLevelReturnParses(t *testing.T) {
	f := extract(t, "#!/usr/bin/env node\nif (!process.argv[2]) {\n  return usage()\n}\neval(x)\n")
	if f.Mode != ModeAST || findCall(f, "eval") == nil {
		t.Fatalf("mode %s, %v, calls %s", f.Mode, f.ParseError, callees(f))
	}
}

func TestBoundedOnHostileInput(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
	}{
		{"100 MB single line", []byte(strings.Repeat("a=b+", 25<<20))},
		{"deep nesting", []byte(strings.Repeat("(", 100000) + strings.Repeat(")", 100000))},
		{"string concatenation bomb", []byte("var a='xxxxxxxxxxxxxxxx';" + strings.Repeat("a=a+a;", 64) + "eval(a)")},
		{"many strings", []byte(strings.Repeat("'abcdefgh',", 400000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			f, err := Extract(context.Background(), tt.src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if len(f.Calls) > DefaultOptions().MaxFacts || len(f.Strings) > DefaultOptions().MaxFacts {
				t.Errorf("unbounded facts: %d calls, %d strings", len(f.Calls), len(f.Strings))
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := []byte(strings.Repeat("f(a, b);\n", 200000))
	if _, err := Extract(ctx, src, Options{}); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}
