package rules

import (
	"regexp"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// SecretScanner catches code running secret-harvesting tools.
var SecretScanner = &Rule{
	ID:       "VGL-A053",
	Name:     "secret-scanner",
	Severity: High,
	Category: CatSecrets,
	Summary: "A string names TruffleHog or the `gh auth token` command — high in a file that runs programs " +
		"through child_process, low otherwise (a mention in help text or a comment-like string).",
	Why: "Shai-Hulud ran TruffleHog over the victim's disk and asked the GitHub CLI for its token: tools that " +
		"find and print credentials have no place in a dependency's runtime code.",
	FalsePositives: "Security tooling packages that wrap these tools; CI helpers calling `gh auth token` to " +
		"authenticate a release.",
	Check: checkSecretScanner,
}

var scannerCmd = regexp.MustCompile(`(?i)\btrufflehog\b|\bgh\s+auth\s+token\b`)

func checkSecretScanner(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		execs := false
		for i := range f.JS.Calls {
			if execMethod(&f.JS.Calls[i]) != "" {
				execs = true
				break
			}
		}
		for _, s := range f.JS.Strings {
			if m := scannerCmd.FindString(s.Value); m != "" {
				if execs {
					out = append(out, at(High, f, s.Pos, "runs the credential finder %q through child_process", m))
				} else {
					out = append(out, at(Low, f, s.Pos, "names the credential finder %q", m))
				}
				return
			}
		}
	})
	return out
}
