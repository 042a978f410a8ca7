package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

func finding(rule string, sev rules.Severity, file string) analyze.Finding {
	return analyze.Finding{Rule: rule, Name: "rule-" + rule, Severity: sev, File: file, Message: "m"}
}

// report builds B's report the way analyze scores it: each rule once at
// its worst severity, plus the given combinations.
func report(fs []analyze.Finding, combos ...analyze.Reason) *analyze.Report {
	r := &analyze.Report{Findings: fs}
	for _, f := range worstByRule(fs) {
		w := analyze.Weights[f.Severity]
		r.Score += w
		r.Reasons = append(r.Reasons, analyze.Reason{Source: f.Rule + " " + f.Name, Points: w})
	}
	for _, c := range combos {
		r.Score += c.Points
		r.Reasons = append(r.Reasons, c)
	}
	r.Verdict = analyze.VerdictFor(r.Score)
	return r
}

func TestFold(t *testing.T) {
	exec := finding("VGL-A030", rules.Medium, "install.js")
	host := finding("VGL-A040", rules.Low, "index.js")
	hook := finding("VGL-A010", rules.High, "index.js")
	crit := finding("VGL-A023", rules.Critical, "index.js")
	combo := analyze.Reason{Source: "combination obfuscated-hook", Points: 20, File: "index.js"}
	clean := Summary{Name: "p", Version: "1.0.0", Verdict: analyze.Clean, Report: report(nil)}
	trust := Signal{Kind: SignalTrustDowngrade, Message: "2.0.0 was published with neither…", Points: SignalPoints[SignalTrustDowngrade]}
	maint := Signal{Kind: SignalMaintainerAdded, Message: "x is a maintainer", Points: 0}

	tests := []struct {
		name    string
		rep     *analyze.Report
		d       *Diff
		score   int
		verdict analyze.Verdict
		// sources lists the added reasons' sources with their points.
		sources []string
	}{
		{
			name:  "nothing new: a medium rule the clean A had subtracts half its weight",
			rep:   report([]analyze.Finding{exec}),
			d:     &Diff{A: clean},
			score: 2, verdict: analyze.Clean,
			sources: []string{"-2 already in the previous release: VGL-A030 rule-VGL-A030"},
		},
		{
			name:  "new high rule adds half its weight: 12 → 18",
			rep:   report([]analyze.Finding{hook}),
			d:     &Diff{A: clean, NewFindings: []analyze.Finding{hook}},
			score: 18, verdict: analyze.Suspicious,
			sources: []string{"+6 new in this release: VGL-A010 rule-VGL-A010"},
		},
		{
			name:  "low new rule rounds up to one point",
			rep:   report([]analyze.Finding{host}),
			d:     &Diff{A: clean, NewFindings: []analyze.Finding{host}},
			score: 2, verdict: analyze.Clean,
			sources: []string{"+1 new in this release: VGL-A040 rule-VGL-A040"},
		},
		{
			name:  "critical findings never get a discount",
			rep:   report([]analyze.Finding{crit}),
			d:     &Diff{A: clean},
			score: 40, verdict: analyze.Malicious,
		},
		{
			name:  "no discount when A was not clean",
			rep:   report([]analyze.Finding{exec}),
			d:     &Diff{A: Summary{Verdict: analyze.Suspicious, Report: report(nil)}},
			score: 4, verdict: analyze.Clean,
		},
		{
			name:  "a new combination adds half its points; a trust downgrade joins new behaviour",
			rep:   report([]analyze.Finding{hook, exec}, combo),
			d:     &Diff{A: clean, NewFindings: []analyze.Finding{hook}, Signals: []Signal{trust, maint}},
			score: 12 + 4 + 20 + 6 - 2 + 10 + 12, verdict: analyze.Malicious,
			sources: []string{
				"+6 new in this release: VGL-A010 rule-VGL-A010",
				"-2 already in the previous release: VGL-A030 rule-VGL-A030",
				"+10 new in this release: combination obfuscated-hook",
				"+12 registry: trust-downgrade",
			},
		},
		{
			name:  "a combination A already had is not new",
			rep:   report([]analyze.Finding{hook}, combo),
			d:     &Diff{A: Summary{Verdict: analyze.Suspicious, Report: report([]analyze.Finding{hook}, combo)}},
			score: 32, verdict: analyze.Suspicious,
		},
		{
			name:  "a trust downgrade alone adds nothing",
			rep:   report([]analyze.Finding{exec}),
			d:     &Diff{A: Summary{Verdict: analyze.Suspicious, Report: report(nil)}, Signals: []Signal{trust}},
			score: 4, verdict: analyze.Clean,
		},
		{
			name: "a lifecycle script added is new behaviour for the signals",
			rep:  report(nil),
			d: &Diff{A: clean, Signals: []Signal{trust, {Kind: SignalPublisherChanged, Points: 6}},
				Manifest: ManifestDiff{Changes: []ManifestChange{{Field: "scripts", Key: "postinstall", Change: Added, Lifecycle: true, InstallTime: true}}}},
			score: 18, verdict: analyze.Suspicious,
			sources: []string{"+12 registry: trust-downgrade", "+6 registry: publisher-changed"},
		},
		{
			name:  "nil diff changes nothing",
			rep:   report([]analyze.Finding{hook}),
			score: 12, verdict: analyze.Suspicious,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.rep.Reasons)
			scoreBefore := tt.rep.Score
			got := Fold(tt.rep, tt.d)
			if len(tt.rep.Reasons) != before || tt.rep.Score != scoreBefore {
				t.Error("Fold modified its input")
			}
			sum := 0
			for _, r := range got.Reasons {
				sum += r.Points
			}
			if got.Score != tt.score || sum != got.Score || got.Verdict != tt.verdict {
				t.Errorf("score %d (reasons sum %d), verdict %s; want %d, %s\n%+v", got.Score, sum, got.Verdict, tt.score, tt.verdict, got.Reasons)
			}
			var sources []string
			for _, r := range got.Reasons[before:] {
				sources = append(sources, fmt.Sprintf("%+d %s", r.Points, r.Source))
				if r.Why == "" {
					t.Errorf("%s: no explanation", r.Source)
				}
			}
			if strings.Join(sources, "\n") != strings.Join(tt.sources, "\n") {
				t.Errorf("added reasons\n%s\nwant\n%s", strings.Join(sources, "\n"), strings.Join(tt.sources, "\n"))
			}
		})
	}
}
