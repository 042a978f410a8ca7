package rules

import (
	"fmt"
	"io"
)

// WriteMarkdown documents every rule from its metadata (docs/detection.md
// embeds the output, so the documentation cannot drift from the code).
func WriteMarkdown(w io.Writer) error {
	for _, r := range All() {
		if _, err := fmt.Fprintf(w, "### %s %s\n\n*Category:* `%s` · *Severity:* up to %s\n\n**Catches.** %s\n\n**Why it matters.** %s\n\n**Known false positives.** %s\n\n",
			r.ID, r.Name, r.Category, r.Severity, r.Summary, r.Why, r.FalsePositives); err != nil {
			return err
		}
	}
	return nil
}
