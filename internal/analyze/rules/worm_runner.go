package rules

import (
	"bytes"
	"regexp"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// SelfHostedRunner catches code that turns the machine into a GitHub
// Actions runner.
var SelfHostedRunner = &Rule{
	ID:       "VGL-A064",
	Name:     "self-hosted-runner",
	Severity: Critical,
	Category: CatWorm,
	Summary: "Code downloads the GitHub Actions runner (actions-runner-<os>-<arch>-<version>.tar.gz, " +
		"actions/runner/releases) — medium — or configures one (`config.sh|config.cmd --url https://github.com/… " +
		"--token …`) — high; critical in a file an install script runs.",
	Why: "Shai-Hulud's second wave registered infected machines as self-hosted runners of an attacker's " +
		"repository, a backdoor that takes commands as workflow jobs and survives the package's removal.",
	FalsePositives: "Tools that provision CI infrastructure (runner autoscalers, cloud constructs) download and " +
		"configure runners by design; they are not installed as dependencies of applications.",
	Check: checkSelfHostedRunner,
}

var runnerSteps = []wormStep{
	{"downloads the GitHub Actions runner", Medium, "runner", regexp.MustCompile(`(?i)\bactions-runner-(?:linux|osx|win)-(?:x64|arm64|arm)\b|github\.com/actions/runner/releases`), false},
	{"registers a self-hosted GitHub Actions runner", High, "config", regexp.MustCompile(`(?i)\bconfig\.(?:sh|cmd)\b.*(?:--url\b.*--token\b|--token\b.*--url\b)`), false},
}

// runnerConfigLines returns, for JavaScript, the source lines that run
// config.sh: the command is usually a template literal whose pieces
// (--url ${url} --token ${token}) are separate strings.
func runnerConfigLines(f *facts.FileFacts) []js.String {
	var out []js.String
	for _, name := range [][]byte{[]byte("config.sh"), []byte("config.cmd")} {
		for off, n := 0, 0; n < 8; n++ {
			i := bytes.Index(f.Data[off:], name)
			if i < 0 {
				break
			}
			i += off
			start := bytes.LastIndexByte(f.Data[:i], '\n') + 1
			end := bytes.IndexByte(f.Data[i:], '\n')
			if end < 0 {
				end = len(f.Data) - i
			}
			end = min(i+end, i+400)
			out = append(out, js.String{Value: string(f.Data[start:end]), Pos: posAt(f.Data, i)})
			off = i + len(name)
		}
	}
	return out
}

func checkSelfHostedRunner(p *facts.Package) []Finding {
	var out []Finding
	textFiles(p, func(f *facts.FileFacts, strs []js.String) {
		if f.JS != nil {
			strs = append(runnerConfigLines(f), strs...)
		}
		if w := worstOf(stepsIn(f, strs, runnerSteps, true), f, nil); w != nil {
			out = append(out, *w)
		}
	})
	return out
}
