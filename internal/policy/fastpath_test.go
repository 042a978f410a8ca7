package policy

import (
	"testing"

	npmversion "github.com/aquasecurity/go-npm-version/pkg"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// TestSimpleRangeMatchesLibrary checks the fast path for plain comparators
// against the range library it stands in for (prereleases included).
func TestSimpleRangeMatchesLibrary(t *testing.T) {
	ranges := []string{
		"4.4.2", "=4.4.2", ">=4.4.2", ">4.4.2", "<4.4.2", "<=4.4.2", ">=1.0.0 <2.0.0",
		"4.4.2 || >=5.0.1 <5.1.0", ">=1.0.0-beta.2 <1.0.0", ">1.0.0-rc.1", "<=0.0.0", "1.0.0+build.5",
	}
	versions := []string{
		"0.0.0", "0.9.9", "1.0.0-alpha", "1.0.0-beta.2", "1.0.0-beta.10", "1.0.0-rc.1", "1.0.0", "1.0.0+build.7",
		"1.5.0", "1.9.9-0", "2.0.0", "4.4.1", "4.4.2-0", "4.4.2", "4.4.3-rc.0", "4.4.3", "5.0.0", "5.0.1", "5.0.2-beta", "5.1.0", "10.0.0",
	}
	for _, r := range ranges {
		sets, ok := parseSimpleRange(r)
		if !ok {
			t.Errorf("%q not read as a simple range", r)
			continue
		}
		lib, err := npmversion.NewConstraints(r, npmversion.WithPreRelease(true))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range versions {
			lv, err := npmversion.NewVersion(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := matchSimple(sets, npm.MustParseVersion(s)), lib.Check(lv); got != want {
				t.Errorf("%q contains %s: fast path %v, library %v", r, s, got, want)
			}
		}
	}
	for _, r := range []string{"^4.4.0", "~1.2.3", "1.x", "1.2", "*", "1.0.0 - 2.0.0", ">= 1.0.0", "latest", ">=1.0.0 <2"} {
		if _, ok := parseSimpleRange(r); ok {
			t.Errorf("%q read as a simple range: the library must evaluate it", r)
		}
	}
}

func TestQuarantineRangeForms(t *testing.T) {
	qs, err := compileQuarantine([]QuarantineEntry{{Package: "debug", Versions: "^4.4.2"}, {Package: "ms", Versions: ">=2.1.3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, version string
		want          bool
	}{
		{"debug", "4.4.2", true}, {"debug", "4.9.0-beta.1", true}, {"debug", "4.4.1", false}, {"debug", "5.0.0", false},
		{"ms", "2.1.3", true}, {"ms", "3.0.0-canary.1", true}, {"ms", "2.1.2", false}, {"ms", "not-semver", false},
	} {
		rules := qs.active(tt.name, testNow)
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules", tt.name, len(rules))
		}
		if got := rules[0].covers(tt.version, nil); got != tt.want {
			t.Errorf("%s@%s covered = %v, want %v", tt.name, tt.version, got, tt.want)
		}
		if v, err := npm.ParseVersion(tt.version); err == nil {
			if got := rules[0].covers(tt.version, &v); got != tt.want {
				t.Errorf("%s@%s (parsed) covered = %v, want %v", tt.name, tt.version, got, tt.want)
			}
		}
	}
}

func TestRunsInstallScriptsMatchesRegistry(t *testing.T) {
	for _, m := range []*registry.Manifest{
		{}, {HasInstallScript: true}, {Gypfile: true}, {Gypfile: true, Scripts: map[string]string{"install": "make"}},
		{Scripts: map[string]string{"postinstall": ""}}, {Scripts: map[string]string{"test": "jest", "prepare": "tsc"}},
		{Scripts: map[string]string{"preinstall": "node x.js"}},
	} {
		if got, want := runsInstallScripts(m), m.HasInstallScripts(); got != want {
			t.Errorf("%+v: %v, registry says %v", m, got, want)
		}
	}
}

func TestParseVersionMatchesNpm(t *testing.T) {
	for _, s := range []string{
		"0.0.0", "1.2.3", "10.20.30", "01.2.3", "1.02.3", "1.2.03", "1.2", "1.2.3.4", "1..3", ".1.2", "1.2.", "v1.2.3", "=1.2.3",
		" 1.2.3", "1.2.3-beta.1", "1.2.3+build", "18446744073709551615.0.0", "18446744073709551616.0.0", "9223372036854775808.1.1", "",
	} {
		checkParseVersion(t, s)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "01.2.3", "1.2.3-rc.1", "18446744073709551615.0.0", "v1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(checkParseVersion)
}

func checkParseVersion(t *testing.T, s string) {
	got, ok := parseVersion(s)
	want, err := npm.ParseVersion(s)
	if ok != (err == nil) || (ok && got.Compare(want) != 0) || (ok && got.String() != want.String()) {
		t.Errorf("parseVersion(%q) = %v, %v; npm.ParseVersion = %v, %v", s, got, ok, want, err)
	}
}
