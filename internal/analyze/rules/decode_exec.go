package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// DecodeExec catches code that decodes a string and runs it.
var DecodeExec = &Rule{
	ID:       "VGL-A023",
	Name:     "decode-then-execute",
	Severity: High,
	Category: CatDecodeExec,
	Summary: "A string decoded at run time — atob, Buffer.from(…, 'base64'|'hex'), String.fromCharCode, " +
		"decodeURIComponent/unescape, split('').reverse().join(''), an obfuscator's string table, or a local " +
		"function that does one of these — flows into eval, Function, setTimeout/setInterval, vm.*, " +
		"module._compile, require() or child_process — high; medium when the decoded text is the parameter of " +
		"the named function that evals it.",
	Why: "Encoding the payload and decoding it at the last moment is how loaders keep malicious code out of " +
		"sight of reviewers, diff tools and scanners; legitimate code has no reason to eval decoded text.",
	FalsePositives: "Rare: bundled WebAssembly or worker loaders decode base64 but instantiate it rather than " +
		"eval it; self-extracting minified libraries are the known exception. A named function that decodes its " +
		"own parameter and evals it (js_of_ocaml's runtime in xml2js: caml_js_eval_string converts UTF-8 with " +
		"String.fromCharCode) is a helper whose callers supply the text: medium, not high. Source maps and " +
		"base64 → JSON.parse are not execution and never count.",
	Check: checkDecodeExec,
}

// decodedFor tells whether an argument's origin counts as decoded for a
// sink. Names taken from an obfuscator's string table are obfuscation,
// not payload decoding, when they only name a module or a command.
func decodedFor(o js.Origin, codeSink bool) bool {
	if codeSink {
		return o.Decoded()
	}
	return (o &^ (js.FromStringArray | js.FromConcat)).Decoded()
}

func execSink(c *js.Call) (string, bool) {
	callee := strings.TrimPrefix(c.Callee, "~")
	if callee == "require" {
		return "require()", true
	}
	for _, cp := range []string{"require('child_process').", "require('node:child_process')."} {
		if m, ok := strings.CutPrefix(callee, cp); ok {
			switch m {
			case "exec", "execSync", "spawn", "spawnSync", "execFile", "execFileSync", "fork":
				return "child_process." + m, true
			}
		}
	}
	return "", false
}

func checkDecodeExec(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		seen := map[string]bool{}
		helpers := map[string]Finding{} // by sink; dropped when the sink also has a high finding
		var helperSinks []string
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			sink, arg, isCode := codeSink(c)
			if !isCode {
				var ok bool
				if sink, ok = execSink(c); !ok {
					continue
				}
				arg = 0
			}
			if globalIdiom(c) || seen[sink] {
				continue
			}
			o := js.Origin(0)
			if isCode && sink == "Function" {
				for k := 0; k < len(c.Args); k++ {
					o |= c.Args[k].Origin
				}
			} else {
				o = c.Arg(arg).Origin
			}
			if !decodedFor(o, isCode) {
				continue
			}
			if o&js.FromParameter != 0 {
				// A named function decoding its own parameter for eval is a
				// runtime helper (js_of_ocaml's caml_js_eval_string, a
				// charset conversion before eval): the text comes from its
				// callers, not from the file. Reported, not damning.
				if _, ok := helpers[sink]; !ok {
					helperSinks = append(helperSinks, sink)
					helpers[sink] = at(Medium, f, c.Pos, "a helper decodes its parameter (%s) and passes it to %s: "+
						"what runs is whatever its callers pass", o&^js.FromParameter, sink)
				}
				continue
			}
			seen[sink] = true
			out = append(out, at(High, f, c.Pos, "passes a string decoded at run time (%s) to %s", o, sink))
		}
		for _, sink := range helperSinks {
			if !seen[sink] {
				out = append(out, helpers[sink])
			}
		}
	})
	return out
}
