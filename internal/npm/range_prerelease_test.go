package npm

import "testing"

// TestRangePrereleases: each expectation was checked against node's
// semver (npm 11's bundled semver.satisfies), the reference for npm ranges.
func TestRangePrereleases(t *testing.T) {
	for _, c := range []struct {
		rng, version string
		want         bool
	}{
		{">=4.4.3-rc.0 <5", "4.4.3-rc.1", true},
		{">=4.4.3-rc.0 <5", "4.4.4-rc.1", false},
		{">=4.4.3-rc.0 <5", "4.4.3", true},
		{"^4.4.3-rc.0", "4.4.3-rc.1", true},
		{"^4.4.3-rc.0", "4.5.0-rc.1", false},
		{"^4.4.3-rc.0", "4.9.0", true},
		{">=4.4.3-rc.0", "4.4.3-rc.1", true},
		{">=1.0.0-alpha <1.0.0", "1.0.0-beta", true},
		{"<5", "4.4.3-rc.1", false},
		{">=4.4.2", "4.4.3-0", false},
		{"~1.2.3-beta.2", "1.2.3-beta.4", true},
		{"~1.2.3-beta.2", "1.2.4-beta.2", false},
		{"1.x || >=2.5.0-rc.1 <3", "2.5.0-rc.2", true},
		{"1.x || >=2.5.0-rc.1 <3", "2.6.0-rc.2", false},
		{">1.0.0-rc.1 <1.0.0-rc.5", "1.0.0-rc.3", true},
		{"*", "1.0.0-rc.1", false},
		{"4.4.2", "4.4.2", true},
		{"<=4.4.2-rc.3", "4.4.2-rc.2", true},
		{"<=4.4.2-rc.3", "4.4.1", true},
	} {
		r, err := ParseRange(c.rng)
		if err != nil {
			t.Fatalf("%s: %v", c.rng, err)
		}
		if got := r.Contains(c.version); got != c.want {
			t.Errorf("%q contains %s = %v, want %v (node semver)", c.rng, c.version, got, c.want)
		}
	}
}

// FuzzParseRange: any range string parses or fails cleanly, and a range
// that parses answers Contains for any version without panicking; a
// release that a range holds stays held when the range is OR-ed with more.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"^4.4.0", ">=1 <2 || 3.x", "*", ">=4.4.3-rc.0 <5", "~1.2.3-beta.2", "1.2.3 - 2", "v1 || <0.0.1-0"} {
		f.Add(s, "4.4.3-rc.1")
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, rng, version string) {
		r, err := ParseRange(rng)
		if err != nil {
			return
		}
		got := r.Contains(version)
		wider, err := ParseRange(rng + " || 0.0.0-fuzz")
		if err != nil {
			return
		}
		if got && !wider.Contains(version) {
			t.Errorf("%q holds %q but %q does not", rng, version, rng+" || 0.0.0-fuzz")
		}
	})
}
