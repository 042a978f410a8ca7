package npm

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version. npm's precedence is SemVer 2.0:
// build metadata is ignored, a prerelease sorts before its release, and
// prerelease identifiers compare numerically when both are numeric.
type Version struct {
	Major, Minor, Patch uint64
	Prerelease          []string // dot-separated identifiers, nil for a release
	Build               string
}

// ParseVersion parses a strict semver version as npm publishes it. A leading
// "v" or "=" and surrounding spaces are tolerated, as npm's loose parser does.
func ParseVersion(s string) (Version, error) {
	orig := s
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "=v")
	var v Version
	if i := strings.IndexByte(s, '+'); i >= 0 {
		v.Build = s[i+1:]
		s = s[:i]
		if v.Build == "" {
			return Version{}, fmt.Errorf("version %q: empty build metadata", orig)
		}
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre := s[i+1:]
		s = s[:i]
		if pre == "" {
			return Version{}, fmt.Errorf("version %q: empty prerelease", orig)
		}
		v.Prerelease = strings.Split(pre, ".")
		for _, id := range v.Prerelease {
			if id == "" {
				return Version{}, fmt.Errorf("version %q: empty prerelease identifier", orig)
			}
		}
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR.PATCH", orig)
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return Version{}, fmt.Errorf("version %q: bad number %q", orig, p)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("version %q: bad number %q", orig, p)
		}
		*nums[i] = n
	}
	return v, nil
}

// MustParseVersion is ParseVersion for constants in tests and tables.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Prerelease) > 0 {
		s += "-" + strings.Join(v.Prerelease, ".")
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// IsPrerelease reports whether v carries prerelease identifiers.
func (v Version) IsPrerelease() bool { return len(v.Prerelease) > 0 }

// Compare returns -1, 0 or 1 by semver precedence; build metadata is ignored.
func (v Version) Compare(w Version) int {
	if c := cmpUint(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmpUint(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmpUint(v.Patch, w.Patch); c != 0 {
		return c
	}
	switch {
	case len(v.Prerelease) == 0 && len(w.Prerelease) == 0:
		return 0
	case len(v.Prerelease) == 0:
		return 1
	case len(w.Prerelease) == 0:
		return -1
	}
	for i := 0; i < len(v.Prerelease) && i < len(w.Prerelease); i++ {
		if c := comparePrereleaseID(v.Prerelease[i], w.Prerelease[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(v.Prerelease), len(w.Prerelease))
}

func comparePrereleaseID(a, b string) int {
	an, aNum := numericID(a)
	bn, bNum := numericID(b)
	switch {
	case aNum && bNum:
		return cmpUint(an, bn)
	case aNum:
		return -1 // numeric identifiers have lower precedence
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}

func numericID(s string) (uint64, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int { return cmpUint(uint64(a), uint64(b)) }
