package analyze

import (
	"fmt"
	"io"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// WriteMarkdown documents the scoring (weights, thresholds, combinations)
// and every rule, for docs/detection.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("### Weights\n\n| severity | points |\n|---|---|\n")
	for _, s := range []rules.Severity{rules.Info, rules.Low, rules.Medium, rules.High, rules.Critical} {
		fmt.Fprintf(&b, "| %s | %d |\n", s, Weights[s])
	}
	fmt.Fprintf(&b, "\nVerdict: **suspicious** from %d points, **malicious** from %d.\n\n", SuspiciousAt, MaliciousAt)
	b.WriteString("### Combinations\n\nEach applies at most once per package, when every group has a finding of at least its severity in the same file.\n\n| combination | points | categories (one of each group) | why |\n|---|---|---|---|\n")
	for _, c := range Combinations {
		var groups []string
		for _, g := range c.All {
			var names []string
			for _, cat := range g.Cats {
				names = append(names, "`"+string(cat)+"`")
			}
			groups = append(groups, "("+strings.Join(names, " or ")+", "+string(g.Min)+"+)")
		}
		cats := strings.Join(groups, " + ")
		if c.InstallTime {
			cats += " in a file run by an install script"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", c.Name, c.Points, cats, c.Why)
	}
	b.WriteString("\n## Rules\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return rules.WriteMarkdown(w)
}
