package npm

import (
	"testing"
)

func TestCompareVersions(t *testing.T) {
	// Each row is strictly ascending by npm (SemVer 2.0) precedence.
	ordered := []string{
		"0.0.1",
		"1.0.0-0",
		"1.0.0-1",
		"1.0.0-2",
		"1.0.0-10", // numeric identifiers compare as numbers
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"1.0.1",
		"1.2.0",
		"1.10.0",
		"2.0.0",
		"10.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			a, b := MustParseVersion(ordered[i]), MustParseVersion(ordered[j])
			want := cmpInt(i, j)
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestVersionBuildMetadataIgnored(t *testing.T) {
	a, b := MustParseVersion("1.2.3+build.1"), MustParseVersion("1.2.3+other")
	if a.Compare(b) != 0 {
		t.Errorf("build metadata must not affect precedence")
	}
	if a.String() != "1.2.3+build.1" {
		t.Errorf("String() = %q", a.String())
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, s := range []string{"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3+", "1.2.3-a..b", "a.b.c", "1.2.-3", "abcdef0123456789"} {
		if _, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) succeeded, want error", s)
		}
	}
	for _, s := range []string{"v1.2.3", "=1.2.3", " 1.2.3 "} {
		if _, err := ParseVersion(s); err != nil {
			t.Errorf("ParseVersion(%q): %v", s, err)
		}
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"debug", true},
		{"@ctrl/tinycolor", true},
		{"lodash.merge", true},
		{"JSONStream", true}, // legacy capitals exist on the registry
		{"", false},
		{"@scope", false},
		{"@/name", false},
		{"@scope/", false},
		{".hidden", false},
		{"_private", false},
		{"has space", false},
		{"a/b", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestPURLRoundTrip(t *testing.T) {
	tests := []struct{ name, version, purl string }{
		{"debug", "4.4.2", "pkg:npm/debug@4.4.2"},
		{"@babel/core", "7.29.0", "pkg:npm/%40babel/core@7.29.0"},
		{"foo", "1.0.0-beta+exp.1", "pkg:npm/foo@1.0.0-beta+exp.1"},
	}
	for _, tt := range tests {
		got := PURL(tt.name, tt.version)
		if got != tt.purl {
			t.Errorf("PURL(%q, %q) = %q, want %q", tt.name, tt.version, got, tt.purl)
		}
		name, version, ok := ParsePURL(got)
		if !ok || name != tt.name || version != tt.version {
			t.Errorf("ParsePURL(%q) = %q, %q, %v", got, name, version, ok)
		}
	}
	if name, _, ok := ParsePURL("pkg:npm/@scope/x@1.0.0"); !ok || name != "@scope/x" {
		t.Errorf("unencoded scope: %q %v", name, ok)
	}
	if _, _, ok := ParsePURL("pkg:pypi/requests@2.0.0"); ok {
		t.Error("pypi purl accepted as npm")
	}
}

func TestParseIntegrity(t *testing.T) {
	const sha512 = "sha512-IQeXCZhGRpFiLI3MYlCGLjNssUBiE8G21RMyNH35KFsxIvhrMeh5jXuG82woDZrYX9pgqHs+GF5js2Ducn4y4A=="
	i, err := ParseIntegrity(sha512)
	if err != nil || !i.Strong() || i.String() != sha512 {
		t.Fatalf("ParseIntegrity(sha512) = %v, %v", i, err)
	}
	i, err = ParseIntegrity("sha1-Vo/mkcWAVB/vPJ5Rd8K/D6MpcSI= " + sha512)
	if err != nil || i.Algorithm != "sha512" {
		t.Errorf("strongest of several: %v %v", i.Algorithm, err)
	}
	i, err = ParseIntegrity("568fe691c580541fef3c9e5177c2bf0fa3297122")
	if err != nil || i.Algorithm != "sha1" || i.Strong() {
		t.Errorf("hex shasum: %v %v", i.Algorithm, err)
	}
	for _, bad := range []string{"", "md5-abc", "sha512-notbase64!", "sha512-AAAA", "sha512"} {
		if _, err := ParseIntegrity(bad); err == nil {
			t.Errorf("ParseIntegrity(%q) succeeded", bad)
		}
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		rng, version string
		want         bool
	}{
		{"^4.4.0", "4.4.2", true},
		{"^4.4.0", "5.0.0", false},
		{"*", "1.0.0", true},
		{"", "0.0.1", true},
		{"4.4.2", "4.4.2", true},
		{">=1 <2 || 3.x", "3.1.0", true},
		{">=1 <2 || 3.x", "2.5.0", false},
		{"^1.0.0", "1.1.0-beta", false}, // prereleases need the same tuple
		{"*", "not-a-version", false},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tt.rng, err)
		}
		if got := r.Contains(tt.version); got != tt.want {
			t.Errorf("%q contains %q = %v, want %v", tt.rng, tt.version, got, tt.want)
		}
	}
	if _, err := ParseRange(">>>nonsense"); err == nil {
		t.Error("ParseRange accepted nonsense")
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "1.0.0-alpha.1+b", "v0.0.0", "1.2.3-0.a.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		w, err := ParseVersion(v.String())
		if err != nil {
			t.Fatalf("String() of a parsed version does not parse: %q → %q: %v", s, v.String(), err)
		}
		if v.Compare(w) != 0 {
			t.Fatalf("round trip changed precedence: %q", s)
		}
	})
}

func FuzzParseIntegrity(f *testing.F) {
	f.Add("sha512-IQeXCZhGRpFiLI3MYlCGLjNssUBiE8G21RMyNH35KFsxIvhrMeh5jXuG82woDZrYX9pgqHs+GF5js2Ducn4y4A==")
	f.Add("568fe691c580541fef3c9e5177c2bf0fa3297122")
	f.Fuzz(func(t *testing.T, s string) {
		i, err := ParseIntegrity(s)
		if err == nil && i.Algorithm != "sha1" {
			if _, err := ParseIntegrity(i.String()); err != nil {
				t.Fatalf("String() does not parse back: %v", err)
			}
		}
	})
}
