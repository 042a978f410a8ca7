package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ProcessExec catches code that starts other programs.
var ProcessExec = &Rule{
	ID:       "VGL-A030",
	Name:     "process-exec",
	Severity: Medium,
	Category: CatExec,
	Summary: "Code runs other programs through child_process: exec, execSync, execFile, execFileSync, spawn, " +
		"spawnSync or fork, also when the module or the function is aliased or destructured. Low in ordinary " +
		"code, medium in a file an install script runs.",
	Why: "Running a program is how a package leaves JavaScript: shells, downloaders, credential tools. At " +
		"install time it runs with the installing user's rights, before anyone has looked at the code.",
	FalsePositives: "Very common: build tools, CLIs and installers (execa, cross-spawn, node-gyp, esbuild's " +
		"install.js, husky) run programs by design. That is why it is low alone and only medium at install time.",
	Check: checkProcessExec,
}

// execMethod returns the child_process method a call invokes, or "".
func execMethod(c *js.Call) string {
	for _, m := range []string{"require('child_process').", "require('node:child_process')."} {
		if rest, ok := strings.CutPrefix(c.Callee, m); ok {
			switch rest {
			case "exec", "execSync", "execFile", "execFileSync", "spawn", "spawnSync", "fork":
				return rest
			}
		}
	}
	return ""
}

// installBump raises a severity by one step for install-time files.
func installBump(sev Severity, f *facts.FileFacts) Severity {
	if !f.InstallTime {
		return sev
	}
	switch sev {
	case Info:
		return Low
	case Low:
		return Medium
	case Medium:
		return High
	}
	return sev
}

func checkProcessExec(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			m := execMethod(c)
			if m == "" {
				continue
			}
			what := "a command computed at run time"
			if a := c.Arg(0); a.Kind == js.KindString {
				what = "the command " + Sanitize(a.Str, 60)
			} else if a.Kind == js.KindPath {
				what = a.Str
			}
			where := ""
			if f.InstallTime {
				where = " in a file run at install time"
			}
			out = append(out, at(installBump(Low, f), f, c.Pos, "runs %s with child_process.%s%s", what, m, where))
			return // once per file
		}
	})
	return out
}
