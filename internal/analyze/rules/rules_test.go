package rules

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// A case is a package made of in-memory files and what one rule must say
// about it: the most severe finding's severity ("" for none) and a
// substring of its message.
type ruleCase struct {
	name  string
	files map[string]string
	sev   Severity
	msg   string
}

func extractPackage(t *testing.T, files map[string]string) *facts.Package {
	t.Helper()
	var fs []facts.File
	for p, d := range files {
		fs = append(fs, facts.File{Path: p, Data: []byte(d)})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	p, err := facts.Extract(context.Background(), fs, facts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runCases(t *testing.T, r *Rule, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := r.Run(extractPackage(t, c.files))
			var worst *Finding
			for i := range got {
				f := &got[i]
				if f.Rule != r.ID || f.Name != r.Name || f.Category != r.Category {
					t.Errorf("finding not stamped with the rule: %+v", f)
				}
				if f.Severity.Rank() > r.Severity.Rank() {
					t.Errorf("severity %s above the rule's declared %s", f.Severity, r.Severity)
				}
				if worst == nil || f.Severity.Rank() > worst.Severity.Rank() {
					worst = f
				}
			}
			switch {
			case c.sev == "" && worst != nil:
				t.Fatalf("unexpected finding: %s %s:%d %s", worst.Severity, worst.File, worst.Line, worst.Message)
			case c.sev == "":
				return
			case worst == nil:
				t.Fatalf("no finding, want %s", c.sev)
			case worst.Severity != c.sev:
				t.Errorf("severity %s (%s), want %s", worst.Severity, worst.Message, c.sev)
			}
			if !strings.Contains(worst.Message, c.msg) {
				t.Errorf("message %q does not contain %q", worst.Message, c.msg)
			}
			// Binaries have no lines; everything else is located.
			if worst.File == "" || (worst.File != "package.json" && worst.Line == 0 && !strings.ContainsRune(c.files[worst.File], 0)) {
				t.Errorf("finding without location: %+v", worst)
			}
		})
	}
}

// manifest writes a package.json.
func manifest(name string, scripts map[string]string) string {
	b, _ := json.MarshalIndent(map[string]any{"name": name, "version": "1.0.0", "scripts": scripts}, "", "  ")
	return string(b)
}

func one(path, src string) map[string]string { return map[string]string{path: src} }

func TestRulesHaveMetadata(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if !strings.HasPrefix(r.ID, "VGL-A0") || len(r.ID) != 8 || seen[r.ID] {
			t.Errorf("bad or duplicate id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Summary == "" || r.Why == "" || r.FalsePositives == "" || r.Check == nil || r.Category == "" || r.Severity.Rank() == 0 {
			t.Errorf("%s: incomplete metadata", r.ID)
		}
		if ByID(r.ID) != r {
			t.Errorf("ByID(%s)", r.ID)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := map[string]string{
		"a\x1b[31mb":      `a\x1b[31mb`,
		"x\u202Ey":        `x\u{202E}y`,
		"zero\u200bwidth": `zero\u{200B}width`,
		"bad\xffutf8":     `bad\xffutf8`,
		"tab\there":       "tab here",
	}
	for in, want := range tests {
		if got := Sanitize(in, 100); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Sanitize(strings.Repeat("é", 300), 10); got != strings.Repeat("é", 10)+"…" {
		t.Errorf("not cut: %q", got)
	}
}

func TestExcerpt(t *testing.T) {
	data := []byte("line one\n" + strings.Repeat("x", 100) + "TARGET" + strings.Repeat("y", 500) + "\nlast")
	off := strings.Index(string(data), "TARGET")
	got := Excerpt(data, off, true)
	if !strings.HasPrefix(got, "…") || !strings.Contains(got, "TARGET") || strings.Contains(got, "last") || len([]rune(got)) > maxEvidence+2 {
		t.Errorf("excerpt %q", got)
	}
}
