package rules

import (
	"bytes"
	"regexp"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// NPMPublish catches code that publishes npm packages or enumerates what
// an npm token may publish: the propagation step of npm worms.
var NPMPublish = &Rule{
	ID:       "VGL-A060",
	Name:     "npm-publish-from-code",
	Severity: Critical,
	Category: CatWorm,
	Summary: "Code publishes to npm or inspects the npm account it runs as: `npm|pnpm|yarn|bun publish` run " +
		"through child_process or a shell script, a publish PUT to the registry (with _attachments), `npm whoami` or /-/whoami, " +
		"/-/npm/v1/tokens or `npm token`, `npm access ls-packages`, the NPM_TOKEN / NODE_AUTH_TOKEN / _authToken " +
		"credentials — and, above all, searching the registry for the packages an account maintains " +
		"(/-/v1/search?text=maintainer:). Low for the token, whoami, token or access lists alone, medium for " +
		"publishing, high for the maintainer search, critical in a file an install script runs or in an " +
		"install script itself (high there for the weak signals).",
	Why: "Shai-Hulud stole npm tokens at install time, asked the registry which packages the token's owner " +
		"maintains, and republished each one with its payload: every step is code that publishes packages " +
		"other than itself. A dependency has no reason to publish anything while it is being installed.",
	FalsePositives: "Release tooling (np, semantic-release, release-it, lerna, changesets, publish-please, " +
		"libnpmpublish, npm-registry-fetch, npm itself) runs npm publish, checks npm whoami and lists package access from its " +
		"CLI code: medium at most, never at install time. Searching for a maintainer's packages is rare outside " +
		"registry dashboards.",
	Check: checkNPMPublish,
}

// A wormStep is one recognisable step of a worm, matched in the strings of
// a file (or the lines of a script).
type wormStep struct {
	what string
	sev  Severity
	// hint is a lower-case substring every match contains: the regexp
	// runs only on strings holding it.
	hint string
	re   *regexp.Regexp
	// exec: the string must be in a file that runs programs (a command,
	// not help text).
	exec bool
}

var publishSteps = []wormStep{
	{"runs npm publish", Medium, "publish", regexp.MustCompile(`(?i)\b(?:npm|pnpm|yarn(?:\s+npm)?|bun)\s+publish\b`), true},
	{"checks which npm account the token belongs to", Low, "whoami", regexp.MustCompile(`(?i)/-/whoami\b|\bnpm\s+whoami\b`), false},
	{"lists or creates npm tokens", Low, "token", regexp.MustCompile(`(?i)/-/npm/v1/tokens\b|\bnpm\s+token\s+(?:list|ls|create)\b`), false},
	{"enumerates the packages an npm account maintains", High, "maint", regexp.MustCompile(`(?i)[?&]text=maintainer:|\bmaintainer:\$?\{|\bnpm\s+search\s+.*maintainer:`), false},
	// Release tools (lerna) list the packages a token may access to check
	// permissions before publishing their own: low, unlike the
	// maintainer search that finds other packages to infect.
	{"lists the packages an npm account can access", Low, "access", regexp.MustCompile(`(?i)\bnpm\s+access\s+(?:ls-packages|list\s+packages)\b`), false},
}

// npmTokenNames are the environment variables and .npmrc key that hold an
// npm publish token; they are read as process.env members, so the source
// text is searched.
var npmTokenNames = [][]byte{[]byte("NPM_TOKEN"), []byte("NODE_AUTH_TOKEN"), []byte(":_authToken")}

// stepsIn returns the steps matched in a file's strings, first match each.
func stepsIn(f *facts.FileFacts, strs []js.String, steps []wormStep, execs bool) map[string]Finding {
	found := map[string]Finding{}
	for _, s := range strs {
		lower := strings.ToLower(s.Value)
		for _, st := range steps {
			if _, ok := found[st.what]; ok || (st.exec && !execs) || !strings.Contains(lower, st.hint) {
				continue
			}
			if m := st.re.FindString(s.Value); m != "" {
				found[st.what] = at(st.sev, f, s.Pos, "%s (%s)", st.what, Sanitize(m, 60))
			}
		}
	}
	return found
}

// registryPut: a PUT request with a tarball attached (_attachments, the
// body of the registry's publish endpoint) in a file naming the npm
// registry. Other PUTs (profile and token settings) are not publishing.
func registryPut(f *facts.FileFacts, strs []js.String) (js.Pos, bool) {
	if !bytes.Contains(f.Data, []byte("_attachments")) {
		return js.Pos{}, false
	}
	var reg *js.String
	put := false
	for i := range strs {
		s := &strs[i]
		if s.Value == "PUT" {
			put = true
		}
		if reg == nil && strings.Contains(s.Value, "registry.npmjs.org") {
			reg = s
		}
	}
	if put && reg != nil {
		return reg.Pos, true
	}
	return js.Pos{}, false
}

// worstOf merges per-step findings into one: the most severe, with every
// step named.
func worstOf(found map[string]Finding, f *facts.FileFacts, escalate func(Severity, []string) Severity) *Finding {
	if len(found) == 0 {
		return nil
	}
	names := make([]string, 0, len(found))
	var worst Finding
	first := true
	for what, fd := range found {
		names = append(names, what)
		if first || fd.Severity.Rank() > worst.Severity.Rank() ||
			(fd.Severity == worst.Severity && fd.Line < worst.Line) {
			worst, first = fd, false
		}
	}
	sort.Strings(names)
	if escalate != nil {
		worst.Severity = escalate(worst.Severity, names)
	}
	worst.Severity = wormSeverity(worst.Severity, f)
	worst.Message = strings.Join(names, "; ") + installNote(f)
	return &worst
}

func checkNPMPublish(p *facts.Package) []Finding {
	var out []Finding
	for _, s := range p.Manifest.Scripts {
		if !facts.IsLifecycle(s.Name) {
			continue
		}
		for _, st := range publishSteps {
			if m := st.re.FindString(s.Command); m != "" {
				out = append(out, inManifest(Critical, s.Line, s.Name+": "+s.Command, "%s script %s (%s)", s.Name, st.what, Sanitize(m, 60)))
				break
			}
		}
	}
	textFiles(p, func(f *facts.FileFacts, strs []js.String) {
		execs := f.JS == nil || runsPrograms(f)
		found := stepsIn(f, strs, publishSteps, execs)
		if pos, ok := registryPut(f, strs); ok {
			found["sends a PUT request to the npm registry"] = at(Medium, f, pos, "")
		}
		for _, name := range npmTokenNames {
			if i := bytes.Index(f.Data, name); i >= 0 {
				found["reads the npm token "+string(name)] = at(Low, f, posAt(f.Data, i), "")
				break
			}
		}
		if w := worstOf(found, f, nil); w != nil {
			out = append(out, *w)
		}
	})
	return out
}
