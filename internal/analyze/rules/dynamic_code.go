package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// DynamicCode catches code built from strings at run time.
var DynamicCode = &Rule{
	ID:       "VGL-A022",
	Name:     "dynamic-code",
	Severity: Low,
	Category: CatDynamicCode,
	Summary: "Code is compiled from a string at run time: eval, Function / new Function, setTimeout/setInterval/" +
		"setImmediate with a string, vm.runInThisContext/runInNewContext/runInContext, new vm.Script, " +
		"vm.compileFunction, module._compile. The global-object idiom Function(\"return this\") is ignored.",
	Why: "Code compiled from strings is invisible to review and to every tool that reads the source; it is " +
		"the last step of most loaders of hidden payloads (see VGL-A023 for the decoded case).",
	FalsePositives: "Template engines and code generators (lodash.template, ejs, handlebars, pug, ajv, " +
		"protobufjs, fast-json-stringify) compile generated code by design; they stay low.",
	Check: checkDynamicCode,
}

// codeSink reports whether a call compiles its argument argIndex as code.
func codeSink(c *js.Call) (name string, arg int, ok bool) {
	callee := strings.TrimPrefix(c.Callee, "~")
	switch callee {
	case "eval", "execScript":
		return callee, 0, true
	case "Function":
		return "Function", c.ArgCount - 1, c.ArgCount > 0
	case "setTimeout", "setInterval", "setImmediate":
		if c.Arg(0).Kind == js.KindString {
			return callee + " with a string", 0, true
		}
		return "", 0, false
	}
	for _, vm := range []string{"require('vm').", "require('node:vm')."} {
		if m, found := strings.CutPrefix(callee, vm); found {
			switch m {
			case "runInThisContext", "runInNewContext", "runInContext", "Script", "compileFunction", "createScript":
				return "vm." + m, 0, true
			}
		}
	}
	switch {
	case strings.HasSuffix(callee, "._compile") && (strings.HasPrefix(callee, "module") || strings.HasPrefix(callee, "require('module')")):
		return "module._compile", 0, true
	case strings.HasSuffix(c.Callee, ".runInThisContext") || strings.HasSuffix(c.Callee, ".runInNewContext"):
		return "vm" + c.Callee[strings.LastIndexByte(c.Callee, '.'):], 0, true
	}
	return "", 0, false
}

// globalIdiom recognises Function("return this") and eval("this").
func globalIdiom(c *js.Call) bool {
	if c.ArgCount != 1 {
		return false
	}
	a := c.Arg(0)
	if a.Kind != js.KindString {
		return false
	}
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(a.Str), ";"))
	return s == "return this" || s == "this" || s == "return globalThis"
}

func checkDynamicCode(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		seen := map[string]bool{}
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			name, arg, ok := codeSink(c)
			if !ok || globalIdiom(c) || seen[name] {
				continue
			}
			seen[name] = true
			what := "a value computed at run time"
			if a := c.Arg(arg); a.Kind == js.KindString {
				what = "a constant string"
				if a.Str == "require" {
					what = "the string \"require\" (hiding require from bundlers)"
				}
			}
			out = append(out, at(Low, f, c.Pos, "compiles code with %s from %s", name, what))
		}
	})
	return out
}
