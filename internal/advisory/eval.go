package advisory

import (
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Matching follows the OSV evaluation algorithm
// (https://ossf.github.io/osv-schema/#evaluation) with npm's version order:
//
//   - A version is affected when it is listed in affected[].versions or lies
//     in one of affected[].ranges.
//   - versions entries are equal to the locked version when the strings are
//     equal after trimming, or when both parse as semver and are the same
//     version once build metadata is dropped: npm strips build metadata on
//     publish (normalize-package-data runs semver.clean), so 1.0.0+x and
//     1.0.0 name the same tarball.
//   - SEMVER and ECOSYSTEM ranges are both evaluated with semver precedence
//     (npm's ecosystem order is semver). GIT ranges need the repository's
//     commit graph and are skipped; their versions list still applies.
//   - Events are sorted by version, "introduced: 0" first, then walked:
//     introduced opens, fixed closes (exclusive), last_affected closes
//     (inclusive). limit events bound the range from above (v < limit for
//     some limit; "*" is infinity).
//   - A locked version that does not parse as semver (a git SHA, a tarball
//     URL, "latest") never lies in a range — not even "introduced: 0" —
//     because nothing can be said about its order; only an exact versions
//     entry matches it.
//   - Malformed bounds fail loud rather than quiet, since a false "clean" is
//     the worst outcome: an unparseable introduced counts as "0", an
//     unparseable fixed or last_affected is dropped (the range stays open)
//     and an unparseable limit counts as "*".

type evKind byte

const (
	evIntroduced   evKind = 1
	evFixed        evKind = 2
	evLastAffected evKind = 3
	evLimit        evKind = 4
)

// normEvent is one event after normalisation: zero marks "introduced: 0"
// (sorts before everything), inf marks a "*" limit (sorts after).
type normEvent struct {
	kind evKind
	zero bool
	inf  bool
	v    npm.Version
}

// evaluable reports whether ranges of this type are evaluated for npm.
func evaluable(t RangeType) bool { return t == RangeSemver || t == RangeEcosystem }

// normalizeRange returns the events of a range sorted by version, with the
// rules for malformed bounds applied. ok is false for ranges Vigil cannot
// evaluate.
func normalizeRange(rg *Range) (evs []normEvent, ok bool) {
	if !evaluable(rg.Type) {
		return nil, false
	}
	evs = make([]normEvent, 0, len(rg.Events))
	for _, e := range rg.Events {
		switch {
		case e.Introduced != "":
			ne := normEvent{kind: evIntroduced}
			if s := strings.TrimSpace(e.Introduced); s == "0" {
				ne.zero = true
			} else if v, err := npm.ParseVersion(s); err == nil {
				ne.v = v
			} else {
				ne.zero = true
			}
			evs = append(evs, ne)
		case e.Fixed != "":
			if v, err := npm.ParseVersion(e.Fixed); err == nil {
				evs = append(evs, normEvent{kind: evFixed, v: v})
			}
		case e.LastAffected != "":
			if v, err := npm.ParseVersion(e.LastAffected); err == nil {
				evs = append(evs, normEvent{kind: evLastAffected, v: v})
			}
		case e.Limit != "":
			ne := normEvent{kind: evLimit}
			if strings.Contains(e.Limit, "*") {
				ne.inf = true
			} else if v, err := npm.ParseVersion(e.Limit); err == nil {
				ne.v = v
			} else {
				ne.inf = true
			}
			evs = append(evs, ne)
		}
	}
	// Stable, so events at the same version keep the record's order.
	slices.SortStableFunc(evs, compareEvents)
	return evs, true
}

func compareEvents(a, b normEvent) int {
	switch {
	case a.zero || b.zero:
		return cmpBool(b.zero, a.zero)
	case a.inf || b.inf:
		return cmpBool(a.inf, b.inf)
	}
	return a.v.Compare(b.v)
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// inRange is the OSV walk over sorted, normalised events.
func inRange(q *npm.Version, evs []normEvent) bool {
	hasLimit, below := false, false
	for i := range evs {
		if evs[i].kind == evLimit {
			hasLimit = true
			if evs[i].inf || q.Compare(evs[i].v) < 0 {
				below = true
			}
		}
	}
	if hasLimit && !below {
		return false
	}
	vulnerable := false
	for i := range evs {
		e := &evs[i]
		switch e.kind {
		case evIntroduced:
			if e.zero || q.Compare(e.v) >= 0 {
				vulnerable = true
			}
		case evFixed:
			if q.Compare(e.v) >= 0 {
				vulnerable = false
			}
		case evLastAffected:
			if q.Compare(e.v) > 0 {
				vulnerable = false
			}
		}
	}
	return vulnerable
}

// query is a locked version prepared once for many comparisons.
type query struct {
	raw   string // trimmed
	canon string // canonical form for versions-list equality
	valid bool
	v     npm.Version
}

func newQuery(version string) query {
	q := query{raw: strings.TrimSpace(version)}
	if v, err := npm.ParseVersion(q.raw); err == nil {
		q.valid, q.v = true, v
		if v.Build == "" && q.raw[0] >= '0' && q.raw[0] <= '9' {
			q.canon = q.raw // already canonical; saves a Sprintf per lookup
		} else {
			q.canon = canonical(v)
		}
	} else {
		q.canon = q.raw
	}
	return q
}

// canonical renders a version without build metadata or a leading v.
func canonical(v npm.Version) string {
	v.Build = ""
	return v.String()
}

// canonicalString is canonical for a string that may not be a version.
func canonicalString(s string) string {
	s = strings.TrimSpace(s)
	if v, err := npm.ParseVersion(s); err == nil {
		return canonical(v)
	}
	return s
}

// includes is the reference evaluation of one affected entry; the index
// evaluates the same rules over a pre-parsed binary form.
func (a *Affected) includes(q *query) bool {
	for _, s := range a.Versions {
		if canonicalString(s) == q.canon {
			return true
		}
	}
	if !q.valid {
		return false
	}
	for i := range a.Ranges {
		if evs, ok := normalizeRange(&a.Ranges[i]); ok && inRange(&q.v, evs) {
			return true
		}
	}
	return false
}

// Affects reports whether name@version is affected by the record, by the
// OSV evaluation rules above. Withdrawn records affect nothing.
func (r *Record) Affects(name, version string) bool {
	if r.IsWithdrawn() {
		return false
	}
	q := newQuery(version)
	for i := range r.Affected {
		if r.Affected[i].npmName() == name && r.Affected[i].includes(&q) {
			return true
		}
	}
	return false
}

// boundsFor lists the fixed and last_affected versions of the evaluable
// ranges of the record's entries for name, canonical, sorted and unique.
func (r *Record) boundsFor(name string) (fixed, lastAffected []string) {
	var fv, lv []npm.Version
	for i := range r.Affected {
		a := &r.Affected[i]
		if a.npmName() != name {
			continue
		}
		for j := range a.Ranges {
			evs, ok := normalizeRange(&a.Ranges[j])
			if !ok {
				continue
			}
			for _, e := range evs {
				switch e.kind {
				case evFixed:
					fv = append(fv, e.v)
				case evLastAffected:
					lv = append(lv, e.v)
				}
			}
		}
	}
	return sortedVersions(fv), sortedVersions(lv)
}

func sortedVersions(vs []npm.Version) []string {
	if len(vs) == 0 {
		return nil
	}
	slices.SortFunc(vs, npm.Version.Compare)
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s := canonical(v)
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}
