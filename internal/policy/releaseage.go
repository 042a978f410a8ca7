package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// releaseAgeReasons applies min_release_age: a version published less than
// the cooldown ago is held back, as most malicious releases are reported
// and unpublished within hours or days.
//
// A version with no known publish time is held too: the cooldown was asked
// for and its condition cannot be shown to hold. A full packument from the
// registry always has a time for every version, so a missing one means a
// mirror that drops times, an abbreviated document handed in without the
// full document's time map, or a tampered document; none of them should
// silently turn the cooldown off. Such a hold has no end (Until is zero).
func (v *view) releaseAgeReasons(version string, l *listed, rs []Reason) []Reason {
	e := v.e
	if e.minAge <= 0 || e.young == Allow || v.ageExempt != "" {
		return rs
	}
	var published time.Time
	var known bool
	if l != nil {
		published, known = l.t, l.hasTime
	} else {
		published, known = v.pk.PublishTime(version)
	}
	var until time.Time
	if known {
		until = published.Add(e.minAge)
		if !v.now.Before(until) {
			return rs
		}
		v.changesAt(until)
	}
	if e.cfg.MinReleaseAge.AllowFixes {
		if r, ok := v.fixExemption(version); ok {
			return append(rs, r)
		}
	}
	cooldown := e.cfg.MinReleaseAge.Duration.String()
	r := Reason{Rule: RuleReleaseAge, Action: e.young, Until: until}
	if known {
		r.Message = fmt.Sprintf("published %s ago (%s), within the %s cooldown; allowed from %s",
			roundAge(v.now.Sub(published)), published.UTC().Format(time.RFC3339), cooldown, until.UTC().Format(time.RFC3339))
	} else {
		r.Message = fmt.Sprintf("publish time unknown, so it cannot be shown to be older than the %s cooldown", cooldown)
	}
	return append(rs, r)
}

// roundAge prints an age to the minute ("5h12m"), or "0m" for one from the
// future (a registry clock ahead of ours).
func roundAge(d time.Duration) string {
	if d < time.Minute {
		return "0m"
	}
	s := d.Truncate(time.Minute).String()
	return s[:len(s)-2] // "5h12m0s" → "5h12m"
}

// fixExemption implements allow_fixes. A young version is exempt from the
// cooldown when all of these hold:
//
//   - its analysis verdict is known and clean;
//   - some advisory matches an earlier (lower) version of the package and
//     does not match this one;
//   - that advisory lists a fixed version F with F ≤ this version, in the
//     same release line (F itself, or a later release of F's line such as
//     a quick follow-up);
//   - F is itself still held by the cooldown (or not listed, or of unknown
//     age): once F is old enough, people can move to F, and later young
//     releases of the line wait out their cooldown like any other.
//
// The last condition keeps a line that had one fixed advisory years ago
// from exempting every future release of it.
func (v *view) fixExemption(version string) (Reason, bool) {
	if v.e.verdicts == nil || v.e.advisories == nil {
		return Reason{}, false
	}
	if vd, ok := v.e.verdicts.Verdict(v.name, version); !ok || vd.Level != VerdictClean {
		return Reason{}, false
	}
	target, err := npm.ParseVersion(version)
	if err != nil {
		return Reason{}, false
	}
	own, err := v.match(version)
	if err != nil {
		return Reason{}, false
	}
	affectsSelf := make(map[string]bool, len(own))
	for _, m := range own {
		if m.Record != nil {
			affectsSelf[m.Record.ID] = true
		}
	}
	line := lineOf(target)
	check := func(earlierVersion string) (Reason, bool) {
		ms, err := v.match(earlierVersion)
		if err != nil {
			return Reason{}, false
		}
		for _, m := range ms {
			if m.Record == nil || affectsSelf[m.Record.ID] {
				continue
			}
			for _, f := range m.Fixed {
				fv, err := npm.ParseVersion(f)
				if err != nil || fv.Compare(target) > 0 || lineOf(fv) != line {
					continue
				}
				end, held := v.stillHeld(f, fv.Compare(target) == 0)
				if !held {
					continue
				}
				if !end.IsZero() {
					v.changesAt(end)
				}
				return Reason{
					Rule:   RuleReleaseAge,
					Action: Allow,
					Message: fmt.Sprintf("exempt from the %s cooldown (allow_fixes): fixes %s, which affects %s@%s; analysis clean",
						v.e.cfg.MinReleaseAge.Duration, m.Record.ID, v.name, earlierVersion),
					Until: end,
				}, true
			}
		}
		return Reason{}, false
	}
	// Closest earlier version first, so the reason names the release
	// people are most likely moving from.
	var lower []*listed
	if v.x != nil {
		for _, l := range v.x.all {
			if l.semver && l.v.Compare(target) < 0 {
				lower = append(lower, l)
			}
		}
	} else {
		for s := range v.pk.Versions {
			if ev, ok := parseVersion(s); ok && ev.Compare(target) < 0 {
				lower = append(lower, &listed{s: s, v: ev, semver: true})
			}
		}
	}
	slices.SortFunc(lower, compareListed)
	for i := len(lower) - 1; i >= 0; i-- {
		l := lower[i]
		if r, ok := check(l.s); ok {
			return r, true
		}
	}
	return Reason{}, false
}

// stillHeld reports whether the fixed version f is (or would be) held by
// the cooldown, and when that ends (zero when unknown). self: f is the
// version being decided, which is young by the time this is asked.
func (v *view) stillHeld(f string, self bool) (end time.Time, held bool) {
	if _, listed := v.pk.Versions[f]; !listed && !self {
		return time.Time{}, true
	}
	t, ok := v.pk.PublishTime(f)
	if !ok {
		return time.Time{}, true
	}
	end = t.Add(v.e.minAge)
	return end, v.now.Before(end)
}
