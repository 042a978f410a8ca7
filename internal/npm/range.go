package npm

import (
	"fmt"
	"regexp"
	"strings"

	npmversion "github.com/aquasecurity/go-npm-version/pkg"
)

// Range is an npm version range ("^4.4.0", ">=1 <2 || 3.x", "*"), with
// npm's semantics: a prerelease version satisfies a comparator set only
// when every comparator admits it and one of them names a prerelease of
// the same major.minor.patch (so ">=4.4.3-rc.0 <5" holds 4.4.3-rc.1 but
// neither 4.4.4-rc.1 nor, for "<5" alone, any prerelease).
//
// go-npm-version applies the same-tuple rule to each comparator on its own,
// which rejects 4.4.3-rc.1 for "<5" inside ">=4.4.3-rc.0 <5"; releases it
// gets right, so only prerelease versions take the per-set path below.
type Range struct {
	raw string
	c   npmversion.Constraints
	// sets are the ||-separated comparator sets, each checked with plain
	// ordering, with the release tuples of the prereleases it names.
	sets []prereleaseSet
}

type prereleaseSet struct {
	c      npmversion.Constraints
	tuples []string // "4.4.3" for a comparator on 4.4.3-rc.0
}

// prereleaseComparator finds the versions with a prerelease a comparator
// set names: 4.4.3-rc.0 in ">=4.4.3-rc.0", "^v4.4.3-rc.0", "=4.4.3-0".
var prereleaseComparator = regexp.MustCompile(`(?:^|[\s=<>^~v])(\d+\.\d+\.\d+)-[0-9A-Za-z.-]+`)

// ParseRange parses an npm range; "" and "*" match every release.
func ParseRange(s string) (Range, error) {
	if s == "" {
		s = "*"
	}
	c, err := npmversion.NewConstraints(s)
	if err != nil {
		return Range{}, fmt.Errorf("version range %q: %w", s, err)
	}
	r := Range{raw: s, c: c}
	for _, part := range strings.Split(s, "||") {
		m := prereleaseComparator.FindAllStringSubmatch(part, -1)
		if len(m) == 0 {
			continue // a set without prerelease comparators admits no prerelease
		}
		pc, err := npmversion.NewConstraints(part, npmversion.WithPreRelease(true))
		if err != nil {
			return Range{}, fmt.Errorf("version range %q: %w", s, err)
		}
		set := prereleaseSet{c: pc}
		for _, t := range m {
			set.tuples = append(set.tuples, t[1])
		}
		r.sets = append(r.sets, set)
	}
	return r, nil
}

// Contains reports whether version satisfies the range. Versions that are
// not semver (git SHAs, tags) never do.
func (r Range) Contains(version string) bool {
	v, err := npmversion.NewVersion(version)
	if err != nil {
		return false
	}
	if !v.IsPreRelease() {
		return r.c.Check(v)
	}
	tuple := v.Release().String()
	for _, set := range r.sets {
		for _, t := range set.tuples {
			if t == tuple && set.c.Check(v) {
				return true
			}
		}
	}
	return false
}

func (r Range) String() string { return r.raw }
