package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// ExecShellDownload catches code that hands a shell a download-and-run
// command line.
var ExecShellDownload = &Rule{
	ID:       "VGL-A032",
	Name:     "exec-shell-download",
	Severity: High,
	Category: CatExec,
	Summary: "A constant shell command passed to child_process downloads code and runs it (curl/wget piped or " +
		"substituted into a shell or interpreter, encoded or downloading PowerShell, certutil/bitsadmin/mshta) — " +
		"high; a plain download with curl/wget — medium.",
	Why: "The same download-and-execute one-liners as in install scripts (VGL-A002), moved into JavaScript " +
		"where package.json reviews do not look; the server decides what runs.",
	FalsePositives: "Rare: installers that fetch a release binary with curl (medium). Piping into a shell " +
		"from library code has no ordinary use.",
	Check: checkExecShellDownload,
}

func checkExecShellDownload(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			m := execMethod(c)
			if m == "" {
				continue
			}
			// exec("cmd") or spawn("sh", ["-c", "cmd"]): only the first
			// argument is known as a string; arrays are not.
			a := c.Arg(0)
			if a.Kind != js.KindString {
				continue
			}
			s := a.Str
			sev, what := High, ""
			switch {
			case pipeToShell.MatchString(s) || substShell.MatchString(s):
				what = "downloads code and pipes it into an interpreter"
			case encodedPS.MatchString(s):
				what = "runs an encoded PowerShell command"
			case psDownload.MatchString(s):
				what = "downloads or decodes and runs PowerShell code"
			case lolbins.MatchString(s):
				what = "downloads with a Windows system binary"
			case download.MatchString(s):
				sev, what = Medium, "downloads "+Sanitize(urlInScript.FindString(s), 80)
			default:
				continue
			}
			out = append(out, at(sev, f, c.Pos, "child_process.%s runs a shell command that %s", m, what))
		}
	})
	return out
}
