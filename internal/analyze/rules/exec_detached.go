package rules

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// DetachedSpawn catches programs started to outlive the current process.
var DetachedSpawn = &Rule{
	ID:       "VGL-A031",
	Name:     "detached-spawn",
	Severity: High,
	Category: CatExec,
	Summary: "spawn/fork/exec with {detached: true}, made silent with stdio 'ignore' and/or unref(): a " +
		"background process that survives its parent. Low in ordinary code; medium in a file an install " +
		"script runs, high there when it is also silenced (stdio ignore or unref).",
	Why: "A detached, silenced child keeps running after npm install returns, unseen in the install log: the " +
		"way payloads keep a stealer or a miner alive beyond the install.",
	FalsePositives: "Daemons and launchers (pm2, forever, editors opening a browser, update notifiers such as " +
		"update-notifier) detach children in ordinary code; they stay low.",
	Check: checkDetachedSpawn,
}

func checkDetachedSpawn(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		unref := false
		for i := range f.JS.Calls {
			if strings.HasSuffix(f.JS.Calls[i].Callee, ".unref") && strings.Contains(f.JS.Calls[i].Callee, "child_process") {
				unref = true
			}
		}
		ignore := false
		for _, s := range f.JS.Strings {
			if s.Value == "ignore" {
				ignore = true
			}
		}
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			m := execMethod(c)
			if m == "" {
				continue
			}
			detached := false
			for j := range c.Args {
				if c.Args[j].Kind == js.KindObject {
					for _, k := range c.Args[j].Keys {
						if k == "detached" {
							detached = true
						}
					}
				}
			}
			if !detached {
				continue
			}
			silent := unref || ignore
			sev := Low
			if f.InstallTime {
				sev = Medium
				if silent {
					sev = High
				}
			}
			how := ""
			switch {
			case unref && ignore:
				how = ", silenced (stdio ignore) and unref'd"
			case unref:
				how = " and unref'd"
			case ignore:
				how = ", silenced (stdio ignore)"
			}
			where := ""
			if f.InstallTime {
				where = " from a file run at install time"
			}
			out = append(out, at(sev, f, c.Pos, "starts a detached background process with child_process.%s%s%s", m, how, where))
			return
		}
	})
	return out
}
