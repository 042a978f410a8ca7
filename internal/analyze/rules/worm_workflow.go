package rules

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// WorkflowWrite catches code that writes GitHub Actions workflows,
// above all ones that dump every secret.
var WorkflowWrite = &Rule{
	ID:       "VGL-A063",
	Name:     "workflow-write",
	Severity: Critical,
	Category: CatWorm,
	Summary: "A file that writes files, runs git or uses the GitHub contents API names a path under " +
		".github/workflows/ — medium; high when the same file holds workflow text that serialises every " +
		"secret (${{ toJSON(secrets) }}); critical in a file an install script runs.",
	Why: "Shai-Hulud pushed .github/workflows/shai-hulud-workflow.yml to every repository it could reach: a " +
		"workflow that posts ${{ toJSON(secrets) }} to the attacker on the next push, long after the " +
		"malicious package is gone.",
	FalsePositives: "Project generators and CI scaffolders (nx, projen, create-* starters) write workflow " +
		"files into the project they create: medium without a secrets dump, never at install time.",
	Check: checkWorkflowWrite,
}

var (
	workflowPath = regexp.MustCompile(`\.github[/\\]workflows\b`)
	secretsDump  = regexp.MustCompile(`toJSON\(\s*secrets\s*\)`)
)

func checkWorkflowWrite(p *facts.Package) []Finding {
	var out []Finding
	textFiles(p, func(f *facts.FileFacts, strs []js.String) {
		acts := f.JS == nil || writesFiles(f) || runsPrograms(f)
		if !acts {
			for _, s := range strs {
				if strings.Contains(s.Value, "/contents/") {
					acts = true
					break
				}
			}
		}
		if !acts {
			return
		}
		var path, dump *js.String
		for i := range strs {
			s := &strs[i]
			if path == nil && strings.Contains(s.Value, "workflows") && workflowPath.MatchString(s.Value) {
				path = s
			}
			if dump == nil && strings.Contains(s.Value, "secrets") && secretsDump.MatchString(s.Value) {
				dump = s
			}
		}
		switch {
		case path == nil:
		case dump != nil:
			out = append(out, at(wormSeverity(High, f), f, dump.Pos, "writes a GitHub Actions workflow (%s) that serialises every secret with toJSON(secrets)%s",
				Sanitize(path.Value, 60), installNote(f)))
		default:
			out = append(out, at(wormSeverity(Medium, f), f, path.Pos, "writes a GitHub Actions workflow (%s)%s", Sanitize(path.Value, 60), installNote(f)))
		}
	})
	return out
}
