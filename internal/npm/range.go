package npm

import (
	"fmt"

	npmversion "github.com/aquasecurity/go-npm-version/pkg"
)

// Range is an npm version range ("^4.4.0", ">=1 <2 || 3.x", "*"), with
// npm's semantics: prereleases only match a comparator on the same
// major.minor.patch tuple.
type Range struct {
	raw string
	c   npmversion.Constraints
}

// ParseRange parses an npm range; "" and "*" match every release.
func ParseRange(s string) (Range, error) {
	if s == "" {
		s = "*"
	}
	c, err := npmversion.NewConstraints(s)
	if err != nil {
		return Range{}, fmt.Errorf("version range %q: %w", s, err)
	}
	return Range{raw: s, c: c}, nil
}

// Contains reports whether version satisfies the range. Versions that are
// not semver (git SHAs, tags) never do.
func (r Range) Contains(version string) bool {
	v, err := npmversion.NewVersion(version)
	if err != nil {
		return false
	}
	return r.c.Check(v)
}

func (r Range) String() string { return r.raw }
