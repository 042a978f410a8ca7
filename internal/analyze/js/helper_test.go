package js

import (
	"slices"
	"testing"
)

// A decoded value built from a named function's own parameter is a
// helper's pass-through (FromParameter); one built from a constant, a
// module-level variable or an inline callback's parameter is not.
func TestParameterOrigin(t *testing.T) {
	tests := []struct {
		name, src, callee string
		param, decoded    bool
	}{
		{"helper decodes its parameter", `function evalString(s) { return eval(utf16(s)) }
function utf16(s) { var t = ''; for (var i = 0; i < s.length; i++) t += String.fromCharCode(s.charCodeAt(i)); return t }`, "eval", true, true},
		{"redeclared parameter", `function jsVar(x) { var x = conv(x); return eval(x) }
function conv(s) { return String.fromCharCode(s.charCodeAt(0) ^ 1) }`, "eval", true, true},
		{"arrow assigned to a name", `const run = (p) => eval(atob(p));`, "eval", true, true},
		{"method", `class L { load(src) { return eval(atob(src)) } }`, "eval", true, true},
		{"pinned by its only caller", `function run(p) { eval(atob(p)) } run('Y29uc29sZS5sb2coMSk=')`, "eval", false, true},
		{"inline callback parameter", `fetch(u).then((r) => r.text()).then((t) => eval(atob(t)))`, "eval", false, true},
		{"anonymous callback", `res.on('end', function (d) { eval(Buffer.from(d, 'base64').toString()) })`, "eval", false, true},
		{"module level", `const p = readPayload(); eval(atob(p))`, "eval", false, true},
		{"helper without decoding", `function run(s) { return eval(s) }`, "eval", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			c := findCall(f, tt.callee)
			if c == nil {
				t.Fatalf("no call %s; have %s", tt.callee, callees(f))
			}
			o := c.Arg(0).Origin
			if got := o&FromParameter != 0; got != tt.param {
				t.Errorf("origin %q: parameter=%v, want %v", o, got, tt.param)
			}
			if o.Decoded() != tt.decoded {
				t.Errorf("origin %q decoded=%v, want %v", o, o.Decoded(), tt.decoded)
			}
		})
	}
}

func TestConfusableIdentifiers(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"cyrillic a in a name", "function isАdmin(u) { return true }\nconst isAdmin = (u) => u.role === 'admin';", []string{"isАdmin"}},
		{"greek omicron", "let cοnfig = {};", []string{"cοnfig"}},
		{"all cyrillic", "const привет = 'hi';", nil},
		{"greek math", "const Δx = 1, λ = 2, σValue = 3;", nil},
		{"unicode in strings", "const s = 'Ваш пароль', e = '👨‍👩‍👧';", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := extract(t, tt.src)
			if !slices.Equal(f.Idents.Confusable, tt.want) {
				t.Errorf("confusable %q, want %q", f.Idents.Confusable, tt.want)
			}
		})
	}
}
