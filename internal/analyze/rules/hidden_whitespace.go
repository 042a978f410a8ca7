package rules

import (
	"bytes"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// HiddenWhitespace catches code pushed out of view by whitespace.
var HiddenWhitespace = &Rule{
	ID:       "VGL-A024",
	Name:     "hidden-after-whitespace",
	Severity: Medium,
	Category: CatObfuscation,
	Summary: "Code continues after a run of 150 or more spaces or tabs on the same line (not indentation, not a " +
		"comment): it sits past the right edge of editors, diffs and code review tools.",
	Why: "Padding a line so that an appended require(), eval or payload scrolls out of view is a cheap way to " +
		"survive a code review; formatters and generators do not produce it.",
	FalsePositives: "Hand-aligned tables and ASCII art inside strings or template literals.",
	Check:          checkHiddenWhitespace,
}

func checkHiddenWhitespace(p *facts.Package) []Finding {
	var out []Finding
	for i := range p.Files {
		f := &p.Files[i]
		if f.Text == nil {
			continue
		}
		for _, run := range f.Text.HiddenRuns {
			rest := f.Data[run.Pos.Offset:]
			if bytes.HasPrefix(rest, []byte("//")) || bytes.HasPrefix(rest, []byte("/*")) || bytes.HasPrefix(rest, []byte("*")) {
				continue
			}
			out = append(out, at(Medium, f, run.Pos, "code resumes after %d spaces or tabs on the same line, out of sight in editors and diffs", run.Len))
			break
		}
	}
	return out
}
