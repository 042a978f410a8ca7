package rules

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// GitHubAbuse catches code that uses a GitHub token the way worms do:
// creating repositories to dump secrets, minting runner registration
// tokens, reading Actions secrets.
var GitHubAbuse = &Rule{
	ID:       "VGL-A062",
	Name:     "github-api-abuse",
	Severity: Critical,
	Category: CatWorm,
	Summary: "Code calls the GitHub API or CLI to create repositories (POST api.github.com/user/repos, " +
		"`gh repo create`) or read Actions secrets (/actions/secrets) — medium — or to mint self-hosted runner " +
		"registration tokens (/actions/runners/registration-token), or names Shai-Hulud's repositories and " +
		"runner (Shai-Hulud, SHA1HULUD) — high; two of these in one file are high, and any of them in a file " +
		"an install script runs is critical. Route tables of API clients (\"POST /user/repos\", " +
		"/repos/{owner}/{repo}/…) are not calls and are ignored.",
	Why: "Shai-Hulud published the secrets it stole to new public repositories named Shai-Hulud, and its second " +
		"wave registered the victim's machine as a self-hosted runner named SHA1HULUD to run its own workflows: " +
		"a dependency has no business creating repositories or runners with its user's token.",
	FalsePositives: "GitHub clients and release tools (@octokit/*, gh-pages, semantic-release's GitHub plugin, " +
		"release-it) hold these endpoints; templated routes are skipped, and a single concrete call stays " +
		"medium outside install time.",
	Check: checkGitHubAbuse,
}

var githubSteps = []wormStep{
	{"creates GitHub repositories", Medium, "repo", regexp.MustCompile(`(?i)api\.github\.com/user/repos\b|\bgh\s+repo\s+create\b`), false},
	{"reads GitHub Actions secrets", Medium, "secrets", regexp.MustCompile(`(?i)api\.github\.com/repos/.*/actions/secrets\b|^/actions/secrets\b|\bgh\s+secret\s+list\b`), false},
	{"mints self-hosted runner registration tokens", High, "registration-token", regexp.MustCompile(`(?i)/actions/runners/registration-token\b`), false},
	{"names Shai-Hulud's repository or runner", High, "hulud", regexp.MustCompile(`(?i)\bshai-?hulud\b|\bsha1-?hulud\b`), false},
}

// routeTemplate: an API client's route, not a call: "POST /user/repos",
// "/repos/{owner}/{repo}/actions/secrets", "/repos/:owner/:repo/…".
func routeTemplate(s string) bool {
	if strings.Contains(s, "{owner}") || strings.Contains(s, "{org}") || strings.Contains(s, ":owner") || strings.Contains(s, "{repo}") {
		return true
	}
	for _, m := range []string{"GET /", "POST /", "PUT /", "PATCH /", "DELETE /"} {
		if strings.HasPrefix(s, m) {
			return true
		}
	}
	return false
}

func checkGitHubAbuse(p *facts.Package) []Finding {
	var out []Finding
	textFiles(p, func(f *facts.FileFacts, strs []js.String) {
		calls := make([]js.String, 0, 8)
		for _, s := range strs {
			if !routeTemplate(s.Value) {
				calls = append(calls, s)
			}
		}
		found := stepsIn(f, calls, githubSteps, true)
		if w := worstOf(found, f, func(sev Severity, names []string) Severity {
			if len(names) >= 2 && sev.Rank() < High.Rank() {
				return High
			}
			return sev
		}); w != nil {
			out = append(out, *w)
		}
	})
	return out
}
