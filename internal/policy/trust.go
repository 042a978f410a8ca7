package policy

import (
	"slices"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// earlierTrust is the strongest attestation among the versions published
// before one in its release line, and the (highest) version that had it.
type earlierTrust struct {
	trust   registry.Trust
	version string
}

// trustOf is m's trust as far as the document can show it. Abbreviated
// documents lack _npmUser, where trusted publishing is recorded, so there
// the strongest readable level is provenance: a trusted-publisher →
// provenance downgrade is invisible in them, and must not be reported from
// a document that merely cannot show it.
func trustOf(m *registry.Manifest, abbreviated bool) registry.Trust {
	t := m.Trust()
	if abbreviated && t > registry.TrustProvenance {
		t = registry.TrustProvenance
	}
	return t
}

func describeTrust(t registry.Trust) string {
	switch t {
	case registry.TrustTrustedPublisher:
		return "trusted publishing"
	case registry.TrustProvenance:
		return "provenance"
	}
	return "no provenance"
}

// trustReasons applies trust_downgrade: a version attested more weakly than
// an earlier version of its release line (same major; same minor below
// 1.0.0) is how several account takeovers showed — the attacker published
// from a laptop with a stolen token, without the CI's provenance.
// "Earlier" is by publish time when every version has one, otherwise by
// semver (see versionIndex.byTime).
func (v *view) trustReasons(version string, m *registry.Manifest, l *listed, rs []Reason) []Reason {
	if v.e.downgrade == Allow {
		return rs
	}
	t := trustOf(m, v.pk.Abbreviated)
	if t == registry.TrustTrustedPublisher {
		return rs
	}
	var best earlierTrust
	if v.x != nil && l != nil {
		best = l.before
	} else {
		best = v.scanEarlierTrust(version, t)
	}
	if best.trust <= t {
		return rs
	}
	var target npm.Version
	if l != nil {
		target = l.v
	} else {
		target, _ = npm.ParseVersion(version) // semver: only then is best set
	}
	return append(rs, Reason{
		Rule:   RuleTrustDowngrade,
		Action: v.e.downgrade,
		Message: "published with " + describeTrust(t) + ", but " + best.version + ", earlier in the " +
			lineOf(target).String() + " line, was published with " + describeTrust(best.trust),
	})
}

// scanEarlierTrust finds, for Decide, the strongest trust among versions
// published before version in its line, looking only at versions whose
// trust exceeds floor (cheap to test) before parsing any.
func (v *view) scanEarlierTrust(version string, floor registry.Trust) earlierTrust {
	target, err := npm.ParseVersion(version)
	if err != nil {
		return earlierTrust{}
	}
	if !v.byTimeKnown {
		v.byTime, v.byTimeKnown = allHaveTimes(v.pk), true
	}
	self := listed{s: version, v: target}
	self.t, self.hasTime = v.pk.PublishTime(version)
	byTime := v.byTime && self.hasTime
	line := lineOf(target)
	var best earlierTrust
	var bestV npm.Version
	for s, m := range v.pk.Versions {
		t := trustOf(m, v.pk.Abbreviated)
		if s == version || t <= floor || t < best.trust {
			continue
		}
		ev, err := npm.ParseVersion(s)
		if err != nil || lineOf(ev) != line {
			continue
		}
		other := listed{s: s, v: ev}
		other.t, _ = v.pk.PublishTime(s)
		if !earlier(&other, &self, byTime) {
			continue
		}
		if t > best.trust || ev.Compare(bestV) > 0 {
			best, bestV = earlierTrust{t, s}, ev
		}
	}
	return best
}

// highestEarlierTrust sets, for DecideAll, every version's earlierTrust
// (listed.before). Per release line it first notes the earliest version at
// each trust level: a version has an earlier one at least as trusted as
// level L exactly when that earliest one precedes it, so finding the
// downgraded versions takes one pass. Only lines with a downgrade are then
// sorted, to name the highest earlier version that had the trust lost.
func highestEarlierTrust(x *versionIndex, abbreviated bool) {
	type line struct {
		members    []*listed
		first      [registry.TrustTrustedPublisher + 1]*listed // earliest with trust >= level
		downgraded bool
	}
	lines := map[lineKey]*line{}
	for _, l := range x.all {
		if !l.semver {
			continue
		}
		l.trust = trustOf(l.m, abbreviated)
		k := lineOf(l.v)
		ln := lines[k]
		if ln == nil {
			ln = &line{}
			lines[k] = ln
		}
		ln.members = append(ln.members, l)
		for lv := registry.TrustProvenance; lv <= l.trust; lv++ {
			if f := ln.first[lv]; f == nil || earlier(l, f, x.byTime) {
				ln.first[lv] = l
			}
		}
	}
	for _, ln := range lines {
		for _, l := range ln.members {
			for lv := registry.TrustTrustedPublisher; lv > l.trust; lv-- {
				if f := ln.first[lv]; f != nil && earlier(f, l, x.byTime) {
					// No earlier version is above lv: lv is the highest.
					l.before.trust = lv
					ln.downgraded = true
					break
				}
			}
		}
		if ln.downgraded {
			nameEarlierTrust(ln.members, x.byTime)
		}
	}
}

// nameEarlierTrust fills in before.version for the downgraded members of
// one line: in publish (or semver) order, the highest version seen so far
// at each trust level. Versions with the same publish time are not earlier
// than each other.
func nameEarlierTrust(members []*listed, byTime bool) {
	slices.SortFunc(members, func(a, b *listed) int {
		if byTime {
			if c := a.t.Compare(b.t); c != 0 {
				return c
			}
		}
		return a.v.Compare(b.v)
	})
	var best [registry.TrustTrustedPublisher + 1]*listed
	for i := 0; i < len(members); {
		j := i + 1
		for j < len(members) && !earlier(members[i], members[j], byTime) {
			j++
		}
		for _, l := range members[i:j] {
			if l.before.trust > l.trust {
				l.before.version = best[l.before.trust].s
			}
		}
		for _, l := range members[i:j] {
			if b := best[l.trust]; b == nil || l.v.Compare(b.v) > 0 {
				best[l.trust] = l
			}
		}
		i = j
	}
}
