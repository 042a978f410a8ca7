package policy

import (
	"maps"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// Plan is how the proxy serves a packument under the policy: which
// versions it removes and where each dist-tag points.
type Plan struct {
	// Decisions has every listed version's decision (warned versions stay
	// and are served with their reasons).
	Decisions map[string]Decision `json:"decisions"`
	// Remove lists the blocked versions to take out of "versions",
	// ascending by semver. Empty in dry-run mode.
	Remove []string `json:"remove,omitempty"`
	// DistTags is the dist-tags object to serve.
	DistTags map[string]string `json:"dist_tags"`
	// Retagged lists the dist-tags that differ from the upstream's, by tag
	// name: re-pointed, or dropped when no version qualifies.
	Retagged []TagChange `json:"retagged,omitempty"`
	// ValidUntil is DecideAll's validUntil: serve the plan until then
	// (zero: until the inputs change).
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// DryRun: nothing removed or re-pointed; Decisions say what would
	// have happened.
	DryRun bool `json:"dry_run,omitempty"`
}

// TagChange is one dist-tag the plan moved.
type TagChange struct {
	Tag  string `json:"tag"`
	From string `json:"from"`
	// To is the new target; "" when the tag was dropped.
	To string `json:"to,omitempty"`
}

// Keeps reports whether version stays in the served document.
func (p *Plan) Keeps(version string) bool {
	d, ok := p.Decisions[version]
	return !ok || p.DryRun || d.Action != Block
}

// Filter decides every version of pk and plans the document to serve:
// blocked versions removed, and each dist-tag that points at a version
// that is removed, missing or still in its cooldown re-pointed to the
// highest version that is served and out of its cooldown, not above the
// original target:
//
//   - "latest" pointing at a release moves to the highest such release
//     (never a prerelease), in any line: with 5.0.0 blocked, latest
//     becomes 4.9.9, what npm would have offered had 5.0.0 not existed;
//   - any other tag stays in its target's release line (same major; same
//     minor below 1.0.0): "v1" → 1.1.1 blocked becomes 1.1.0, never 0.9;
//   - a tag pointing at a release moves only to releases; a tag pointing at
//     a prerelease ("next", "beta") may move to a lower prerelease or
//     release of its line;
//   - a tag with no such version is dropped (npm then picks the highest
//     version a range allows).
//
// A version held by the cooldown is never a tag target even when the
// cooldown only warns: installs by tag and by range (npm prefers the
// latest tag when it satisfies the range) then stay on settled versions,
// while an explicitly pinned young version is still served with a warning.
func (e *Engine) Filter(pk *registry.Packument) Plan {
	v, decisions := e.decideAll(pk)
	p := Plan{Decisions: decisions, ValidUntil: v.next, DryRun: e.cfg.DryRun}
	if p.DryRun {
		p.DistTags = maps.Clone(pk.DistTags)
		return p
	}
	var removed []*listed
	for _, l := range v.x.all {
		if decisions[l.s].Action == Block {
			removed = append(removed, l)
		}
	}
	slices.SortFunc(removed, compareListed)
	for _, l := range removed {
		p.Remove = append(p.Remove, l.s)
	}
	tagTarget := func(d Decision) bool {
		if d.Action == Block {
			return false
		}
		for _, r := range d.Reasons {
			if r.Rule == RuleReleaseAge && r.Action != Allow {
				return false
			}
		}
		return true
	}
	p.DistTags = make(map[string]string, len(pk.DistTags))
	for _, tag := range slices.Sorted(maps.Keys(pk.DistTags)) {
		target := pk.DistTags[tag]
		if d, ok := decisions[target]; ok && tagTarget(d) {
			p.DistTags[tag] = target
			continue
		}
		to := retarget(v.x, tag, target, func(s string) bool { return tagTarget(decisions[s]) })
		if to != "" {
			p.DistTags[tag] = to
		}
		p.Retagged = append(p.Retagged, TagChange{Tag: tag, From: target, To: to})
	}
	return p
}

// retarget finds the version a dist-tag moves to (see Filter), or "".
func retarget(x *versionIndex, tag, target string, ok func(string) bool) string {
	tv, err := npm.ParseVersion(target)
	if err != nil {
		return ""
	}
	line := lineOf(tv)
	var best *listed
	for _, l := range x.all {
		candidate := l.semver && l.s != target && l.v.Compare(tv) <= 0 &&
			(tv.IsPrerelease() || !l.v.IsPrerelease()) && // releases stay on releases
			(tag == "latest" || lineOf(l.v) == line)
		if candidate && (best == nil || compareListed(l, best) > 0) && ok(l.s) {
			best = l
		}
	}
	if best == nil {
		return ""
	}
	return best.s
}
