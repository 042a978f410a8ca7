package policy

import (
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// lineKey names a release line: the versions npm's caret ranges treat as
// compatible. 1.x, 2.x … are lines by major; below 1.0.0 every minor is
// its own line (0.3.x), since ^0.3.0 stops at 0.4.0.
type lineKey struct{ major, minor uint64 }

func lineOf(v npm.Version) lineKey {
	if v.Major == 0 {
		return lineKey{0, v.Minor}
	}
	return lineKey{v.Major, 0}
}

func (k lineKey) String() string {
	if k.major == 0 {
		return "0." + strconv.FormatUint(k.minor, 10) + ".x"
	}
	return strconv.FormatUint(k.major, 10) + ".x"
}

// listed is one version of a packument with what the rules read of it.
type listed struct {
	s       string
	v       npm.Version
	semver  bool // s parsed as semver
	m       *registry.Manifest
	t       time.Time
	hasTime bool
	// trust and before (the strongest trust among earlier versions of the
	// line) are filled in by DecideAll (highestEarlierTrust).
	trust  registry.Trust
	before earlierTrust
}

// versionIndex is a packument's versions parsed once, for deciding all of
// them and for Filter.
type versionIndex struct {
	all []*listed // in no particular order
	// byTime: every listed version has a publish time, so "earlier" means
	// published earlier; otherwise it means lower by semver.
	byTime bool
}

func indexVersions(pk *registry.Packument) *versionIndex {
	items := make([]listed, len(pk.Versions))
	x := &versionIndex{all: make([]*listed, 0, len(pk.Versions)), byTime: len(pk.Versions) > 0}
	i := 0
	for s, m := range pk.Versions {
		l := &items[i]
		i++
		*l = listed{s: s, m: m}
		l.v, l.semver = parseVersion(s)
		l.t, l.hasTime = pk.PublishTime(s)
		x.byTime = x.byTime && l.hasTime
		x.all = append(x.all, l)
	}
	return x
}

// parseVersion is npm.ParseVersion without allocating for the common
// "MAJOR.MINOR.PATCH" form; anything else goes to npm.ParseVersion.
func parseVersion(s string) (npm.Version, bool) {
	var n [3]uint64
	part, digits := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if (digits == 1 && n[part] == 0) || n[part] > (1<<63)/10 {
				return parseVersionSlow(s) // a leading zero, or large: let npm decide
			}
			n[part] = n[part]*10 + uint64(c-'0')
			digits++
		case c == '.' && digits > 0 && part < 2:
			part, digits = part+1, 0
		default:
			return parseVersionSlow(s)
		}
	}
	if part != 2 || digits == 0 {
		return parseVersionSlow(s)
	}
	return npm.Version{Major: n[0], Minor: n[1], Patch: n[2]}, true
}

func parseVersionSlow(s string) (npm.Version, bool) {
	v, err := npm.ParseVersion(s)
	return v, err == nil
}

func compareListed(a, b *listed) int {
	switch {
	case a.semver && b.semver:
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
	case a.semver:
		return -1
	case b.semver:
		return 1
	}
	// Equal precedence (build metadata differs) or both not semver.
	if a.s < b.s {
		return -1
	} else if a.s > b.s {
		return 1
	}
	return 0
}

// allHaveTimes reports whether every listed version of pk has a publish
// time, which decides what "earlier" means (see versionIndex.byTime).
func allHaveTimes(pk *registry.Packument) bool {
	if len(pk.Versions) == 0 {
		return false
	}
	for s := range pk.Versions {
		if _, ok := pk.PublishTime(s); !ok {
			return false
		}
	}
	return true
}

// earlier reports whether a came before b: by publish time when byTime,
// else by semver precedence.
func earlier(a, b *listed, byTime bool) bool {
	if byTime {
		return a.t.Before(b.t)
	}
	return a.v.Compare(b.v) < 0
}
