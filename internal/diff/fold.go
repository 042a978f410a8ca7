package diff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// Sources of the reasons Fold adds, so reports and tests can recognise
// them.
const (
	SourceNewRule        = "new in this release:"
	SourceNewCombination = "new in this release: combination"
	SourceAlreadyPresent = "already in the previous release:"
	SourceRegistry       = "registry:"
)

// Fold weighs B's analysis with its history: it returns a copy of rep (B's
// report) with extra Reasons, the score being still the sum of its
// reasons and the verdict analyze.VerdictFor of it. rep is not modified.
//
//   - A rule with findings new in B (Diff.NewFindings) adds half its weight
//     again (rounded up): a behaviour that arrived with this release is
//     what a compromise looks like.
//   - A combination that applies to B but did not to A adds half its
//     points again.
//   - A rule whose findings were all in A already, in the same files,
//     subtracts half its weight (rounded down) — never for a critical
//     finding, and never when A itself was not clean: the package always
//     did this and nobody found it malicious.
//   - Registry signals (trust downgrade, publisher change, burst, dormant
//     revival, back-publish) add their SignalPoints, but only together
//     with new behaviour (a new rule or combination above, or a lifecycle
//     script added or changed in package.json): alone they describe many
//     legitimate releases.
func Fold(rep *analyze.Report, d *Diff) *analyze.Report {
	out := *rep
	out.Reasons = append([]analyze.Reason(nil), rep.Reasons...)
	if d == nil {
		return &out
	}
	prev := d.A.Name + "@" + d.A.Version
	var added []analyze.Reason

	newRules := map[string]bool{}
	for _, f := range d.NewFindings {
		newRules[f.Rule] = true
	}
	newBehaviour := false
	for _, r := range worstByRule(rep.Findings) {
		w := analyze.Weights[r.Severity]
		src := r.Rule + " " + r.Name
		switch {
		case newRules[r.Rule]:
			if pts := (w + 1) / 2; pts > 0 {
				newBehaviour = true
				added = append(added, analyze.Reason{Source: SourceNewRule + " " + src, Points: pts,
					Why: fmt.Sprintf("%s was not in %s: a behaviour that arrives with a release weighs more than one the package always had", src, prev)})
			}
		case d.A.Verdict == analyze.Clean && r.Severity != rules.Critical:
			if pts := w / 2; pts > 0 {
				added = append(added, analyze.Reason{Source: SourceAlreadyPresent + " " + src, Points: -pts,
					Why: fmt.Sprintf("the same %s findings, in the same files, were in %s, which was clean", src, prev)})
			}
		}
	}
	before := map[string]bool{}
	if d.A.Report != nil {
		for _, r := range d.A.Report.Reasons {
			before[r.Source] = true
		}
	}
	for _, r := range rep.Reasons {
		name, ok := strings.CutPrefix(r.Source, "combination ")
		if !ok || before[r.Source] || r.Points <= 0 {
			continue
		}
		newBehaviour = true
		added = append(added, analyze.Reason{Source: SourceNewCombination + " " + name, Points: (r.Points + 1) / 2, File: r.File,
			Why: fmt.Sprintf("the %s combination did not apply to %s", name, prev)})
	}
	for _, c := range d.Manifest.Changes {
		if c.Field == "scripts" && c.Lifecycle && c.Change != Removed {
			newBehaviour = true
		}
	}
	if newBehaviour {
		for _, s := range d.Signals {
			if s.Points > 0 {
				added = append(added, analyze.Reason{Source: SourceRegistry + " " + string(s.Kind), Points: s.Points,
					Why: s.Message + "; together with behaviour new in this release"})
			}
		}
	}
	for _, r := range added {
		out.Score += r.Points
	}
	out.Reasons = append(out.Reasons, added...)
	out.Verdict = analyze.VerdictFor(out.Score)
	return &out
}

// worstByRule returns each rule's most severe finding, by rule id.
func worstByRule(fs []analyze.Finding) []analyze.Finding {
	best := map[string]analyze.Finding{}
	for _, f := range fs {
		if b, ok := best[f.Rule]; !ok || f.Severity.Rank() > b.Severity.Rank() {
			best[f.Rule] = f
		}
	}
	out := make([]analyze.Finding, 0, len(best))
	for _, f := range best {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}
