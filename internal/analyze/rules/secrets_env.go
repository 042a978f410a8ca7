package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// EnvSerialise catches the whole environment being turned into data.
var EnvSerialise = &Rule{
	ID:       "VGL-A050",
	Name:     "env-serialisation",
	Severity: High,
	Category: CatSecrets,
	Summary: "The whole process.env is serialised: JSON.stringify(process.env) — medium, high in a file an " +
		"install script runs; Object.entries/values(process.env) — low, medium at install time. Reading single " +
		"variables, Object.keys(process.env) and {...process.env} for a child's environment are not reported.",
	Why: "The environment of an install holds NPM_TOKEN, GITHUB_TOKEN, cloud keys and CI secrets; dumping all " +
		"of it is the first step of nearly every npm credential stealer.",
	FalsePositives: "Bundler configs passing the environment to DefinePlugin, debug dumps in CLIs and test " +
		"helpers; they are medium at most outside install-time code.",
	Check: checkEnvSerialise,
}

func checkEnvSerialise(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		var best *Finding
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			a := c.Arg(0)
			if a.Kind != js.KindPath || a.Str != "process.env" {
				continue
			}
			var sev Severity
			switch c.Callee {
			case "JSON.stringify":
				sev = Medium
			case "Object.entries", "Object.values":
				sev = Low
			default:
				continue
			}
			sev = installBump(sev, f)
			if best == nil || sev.Rank() > best.Severity.Rank() {
				where := ""
				if f.InstallTime {
					where = " in a file run at install time"
				}
				fd := at(sev, f, c.Pos, "serialises the whole environment with %s(process.env)%s", c.Callee, where)
				best = &fd
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	})
	return out
}
