package policy

import (
	"os"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// FuzzFilter decides and filters arbitrary packuments (whatever
// registry.ParsePackument accepts) under every rule, and checks what must
// always hold: Decide and DecideAll agree, removed versions are exactly the
// blocked ones, and no dist-tag points at a removed or cooling-down
// version.
func FuzzFilter(f *testing.F) {
	for _, p := range []string{debugFile, tagsFile, widgetFile, widgetAbbrFile} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"name":"x","dist-tags":{"latest":"1.0.0","next":"2.0.0-0"},"versions":{"1.0.0":{},"2.0.0-0":{},"v3":{}},"time":{"1.0.0":"2026-03-10T00:00:00Z"}}`))
	cfg := config.DefaultPolicy()
	cfg.MinReleaseAge.Duration = config.Duration(72 * time.Hour)
	cfg.MinReleaseAge.AllowFixes = true
	cfg.InstallScripts.Action = "warn"
	cfg.Advisories.MinSeverity = "low"
	f.Fuzz(func(t *testing.T, data []byte) {
		pk, err := registry.ParsePackument(data)
		if err != nil {
			return
		}
		vs := Verdicts{}
		for v := range pk.Versions {
			vs[npm.PackageVersion{Name: pk.Name, Version: v}] = Verdict{Level: VerdictClean}
		}
		e, err := New(cfg, Inputs{
			Advisories: testAdvisories,
			Verdicts:   vs,
			Now:        fixedClock(testNow),
			Quarantine: []QuarantineEntry{{Package: "debug", Versions: ">=4.4.2 <5", Reason: "r"}, {Package: "@vigil-test/*", Versions: "^2.0.0", Reason: "r"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := e.Filter(pk)
		checkPlanInvariants(t, pk, &p)
		for v, d := range p.Decisions {
			if one := e.Decide(pk, v); !decisionsEqual(one, d) {
				t.Fatalf("%s: Decide %+v, DecideAll %+v", v, one, d)
			}
		}
		if !p.ValidUntil.IsZero() && p.ValidUntil.Before(testNow) {
			t.Fatalf("valid until %v, before now", p.ValidUntil)
		}
	})
}
