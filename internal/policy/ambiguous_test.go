package policy

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/registry"
)

func TestAmbiguousManifest(t *testing.T) {
	pk, err := registry.ParsePackument([]byte(`{"name":"evil","dist-tags":{"latest":"1.0.2","next":"1.0.1"},` +
		`"time":{"1.0.0":"2020-01-01T00:00:00Z","1.0.1":"2020-01-02T00:00:00Z","1.0.2":"2020-01-03T00:00:00Z"},"versions":{` +
		`"1.0.0":{"version":"1.0.0","dist":{"tarball":"t","integrity":"i"}},` +
		`"1.0.1":{"version":"1.0.1","scripts":{"postinstall":"node steal.js"},"Scripts":{"test":"x"},"dist":{"tarball":"t"}},` +
		`"1.0.2":{"version":"1.0.2","dist":{"tarball":"t"},"Dist":{"tarball":"http://169.254.169.254/"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Every rule allowing, and install scripts allowed for the name: the
	// block does not depend on any setting.
	var permissive config.Policy
	permissive.Advisories.Action = "allow"
	permissive.Advisories.Malware = "warn"
	permissive.InstallScripts.Action = "allow"
	permissive.TrustDowngrade.Action = "allow"
	permissive.MinReleaseAge.Action = "allow"
	var scriptsAllowed config.Policy
	scriptsAllowed.InstallScripts.Action = "block"
	scriptsAllowed.InstallScripts.Allow = []string{"evil"}
	for name, cfg := range map[string]config.Policy{"permissive": permissive, "scripts allowed": scriptsAllowed, "defaults": {}} {
		t.Run(name, func(t *testing.T) {
			e, err := New(cfg, Inputs{Now: fixedClock(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ version, keys string }{
				{"1.0.0", ""},
				{"1.0.1", `"scripts" and "Scripts"`},
				{"1.0.2", `"dist" and "Dist"`},
			} {
				d := e.Decide(pk, c.version)
				if c.keys == "" {
					for _, r := range d.Reasons {
						if r.Rule == RuleAmbiguousManifest {
							t.Errorf("%s: %v", c.version, r)
						}
					}
					continue
				}
				if d.Action != Block || len(d.Reasons) == 0 || d.Reasons[0].Rule != RuleAmbiguousManifest {
					t.Fatalf("%s: %+v", c.version, d)
				}
				want := "manifest has case-variant duplicate keys (" + c.keys + "): what the registry says and what clients read may differ"
				if got := d.Reasons[0].String(); got != want {
					t.Errorf("%s: reason %q, want %q", c.version, got, want)
				}
			}
			p := e.Filter(pk)
			if strings.Join(p.Remove, ",") != "1.0.1,1.0.2" {
				t.Errorf("Remove = %v", p.Remove)
			}
			for tag, to := range p.DistTags {
				if to != "1.0.0" {
					t.Errorf("dist-tag %s -> %s", tag, to)
				}
			}
			if p.DistTags["latest"] != "1.0.0" {
				t.Errorf("latest = %q", p.DistTags["latest"])
			}
		})
	}
}
