package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ModuleFromString catches modules and scripts built from strings through
// Node's module loader or vm.
var ModuleFromString = &Rule{
	ID:       "VGL-A027",
	Name:     "module-from-string",
	Severity: High,
	Category: CatDynamicCode,
	Summary: "Code builds a module or script from a string through Node's internals: module._compile, " +
		"new Module(), Module._load, vm.Script, vm.runInThisContext/runInNewContext/runInContext, " +
		"vm.compileFunction, vm.SourceTextModule — medium (high in a file an install script runs); high when the " +
		"compiled text is decoded at run time or the file downloads from a fixed URL and compiles text that is " +
		"not a constant.",
	Why: "Compiling a module from a string loads code that exists in no file of the package: the usual last " +
		"step of loaders that fetch or unpack their payload, and one that require hooks and file scanners never " +
		"see.",
	FalsePositives: "Require hooks and test runners (ts-node, @babel/register, pirates, jiti, jest-runtime, " +
		"require-from-string, v8-compile-cache) and sandboxes (jsdom) compile modules by design: medium.",
	Check: checkModuleFromString,
}

// moduleSink names a call that compiles a module or script, and which
// argument holds the source (-1 when none does).
func moduleSink(c *js.Call) (string, int) {
	callee := c.Callee
	for _, m := range []string{"require('module')", "require('node:module')"} {
		if callee == m && c.New {
			return "new Module()", -1
		}
		if rest, ok := strings.CutPrefix(callee, m+"."); ok {
			switch rest {
			case "_load":
				return "Module._load", -1
			case "prototype._compile":
				return "Module.prototype._compile", 0
			}
		}
	}
	for _, vm := range []string{"require('vm').", "require('node:vm')."} {
		if m, ok := strings.CutPrefix(callee, vm); ok {
			switch m {
			case "runInThisContext", "runInNewContext", "runInContext", "compileFunction", "createScript":
				return "vm." + m, 0
			case "Script", "SourceTextModule":
				return "new vm." + m, 0
			}
		}
	}
	if i := strings.LastIndexByte(callee, '.'); i >= 0 {
		switch callee[i+1:] {
		case "_compile":
			return "module._compile", 0
		case "runInThisContext", "runInNewContext", "runInContext":
			// script.runInThisContext(): the source went to new vm.Script.
			if strings.HasPrefix(callee, "~") {
				return "", -1
			}
		}
	}
	return "", -1
}

func checkModuleFromString(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		var worst *Finding
		remote := -1
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			name, arg := moduleSink(c)
			if name == "" {
				continue
			}
			sev, why := installBump(Medium, f), installNote(f)
			if arg >= 0 {
				a := c.Arg(arg)
				switch {
				case hiddenDecode(a.Origin, true):
					sev, why = High, " from text decoded at run time ("+a.Origin.String()+")"
				case a.Kind != js.KindString:
					if remote < 0 {
						remote = 0
						if fetchesWithConstantURL(f) {
							remote = 1
						}
					}
					if remote == 1 {
						sev, why = High, " from text computed in a file that downloads from a fixed URL"
					}
				}
			}
			if worst == nil || sev.Rank() > worst.Severity.Rank() {
				fd := at(sev, f, c.Pos, "compiles code with %s%s", name, why)
				worst = &fd
			}
		}
		if worst != nil {
			out = append(out, *worst)
		}
	})
	return out
}
