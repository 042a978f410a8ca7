package policy

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
)

// largePackument builds a full packument in the registry's format with n
// versions over many release lines (like typescript's or @types/node's
// ~3,000): a prerelease before every tenth release, a postinstall on some,
// one release an hour so the newest are inside a 3-day cooldown. Trust
// follows a project's history (token publishes, then provenance, then
// trusted publishing, with one token publish after that: a downgrade), or
// with mixedTrust alternates from release to release, the worst case for
// the trust rule (two thirds of the versions downgraded).
func largePackument(tb testing.TB, name string, n int, mixedTrust bool) *registry.Packument {
	tb.Helper()
	type dist struct {
		Integrity    string          `json:"integrity"`
		Shasum       string          `json:"shasum"`
		Tarball      string          `json:"tarball"`
		Attestations json.RawMessage `json:"attestations,omitempty"`
	}
	type manifest struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Scripts map[string]string `json:"scripts,omitempty"`
		Deps    map[string]string `json:"dependencies,omitempty"`
		Dist    dist              `json:"dist"`
		NpmUser json.RawMessage   `json:"_npmUser"`
	}
	versions := map[string]manifest{}
	times := map[string]string{}
	start := testNow.Add(-time.Duration(n) * time.Hour)
	var last string
	for i := 0; len(versions) < n; i++ {
		major, minor, patch := i/100, (i/10)%10, i%10
		tokenAgain := n*9/10 + 5 // a token publish in a line already on trusted publishing
		provenance, trusted := i >= n*2/3 && i != tokenAgain, i >= n*5/6 && i != tokenAgain
		if mixedTrust {
			provenance, trusted = i%3 == 0, i%6 == 0
		}
		add := func(v string) {
			m := manifest{Name: name, Version: v, Deps: map[string]string{"ms": "^2.1.3"},
				NpmUser: json.RawMessage(`{"name":"alice","email":"alice@example.com"}`)}
			m.Dist = dist{Integrity: "sha512-AAAA", Shasum: "0000", Tarball: "https://registry.npmjs.org/" + name + "/-/" + name + "-" + v + ".tgz"}
			if provenance {
				m.Dist.Attestations = json.RawMessage(`{"url":"https://registry.npmjs.org/-/npm/v1/attestations/x","provenance":{"predicateType":"https://slsa.dev/provenance/v1"}}`)
			}
			if trusted {
				m.NpmUser = json.RawMessage(`{"name":"GitHub Actions","email":"npm-oidc-no-reply@github.com","trustedPublisher":{"id":"github","oidcConfigId":"oidc:1"}}`)
			}
			if i%50 == 7 {
				m.Scripts = map[string]string{"postinstall": "node install.js"}
			}
			versions[v] = m
			times[v] = start.Add(time.Duration(len(versions)) * time.Hour).Format(time.RFC3339Nano)
		}
		if patch == 0 && len(versions)+1 < n {
			add(fmt.Sprintf("%d.%d.%d-beta.%d", major, minor, patch, i%3))
		}
		last = fmt.Sprintf("%d.%d.%d", major, minor, patch)
		add(last)
	}
	doc := map[string]any{
		"name":      name,
		"dist-tags": map[string]string{"latest": last, "next": "29.9.0-beta.0", "v1": "1.9.9"},
		"versions":  versions,
		"time":      times,
	}
	data, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	pk, err := registry.ParsePackument(data)
	if err != nil {
		tb.Fatal(err)
	}
	return pk
}

func benchEngine(b *testing.B, in Inputs) *Engine {
	in.Now = fixedClock(testNow)
	in.Quarantine = []QuarantineEntry{{Package: "@vigil-test/other", Reason: "r"}, {Package: in.Quarantine[0].Package, Versions: ">=12.0.0 <12.5.0", Reason: "r"}}
	cfg := config.DefaultPolicy()
	cfg.MinReleaseAge.Duration = config.Duration(72 * time.Hour)
	cfg.MinReleaseAge.AllowFixes = true
	cfg.InstallScripts.Action = "warn"
	e, err := New(cfg, in)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchInputs(name string) Inputs {
	vs := Verdicts{}
	for _, v := range []string{"29.9.9", "29.9.8", "5.0.1"} {
		vs[npm.PackageVersion{Name: name, Version: v}] = Verdict{Level: VerdictClean}
	}
	vs[npm.PackageVersion{Name: name, Version: "7.7.7"}] = Verdict{Level: VerdictSuspicious, Score: 20}
	return Inputs{Verdicts: vs, Quarantine: []QuarantineEntry{{Package: name}}}
}

// BenchmarkDecideAll is the engine alone (no advisory data): what the
// proxy pays per packument on top of advisory lookups.
func BenchmarkDecideAll(b *testing.B) {
	pk := largePackument(b, "@vigil-test/big", 3000, false)
	e := benchEngine(b, benchInputs(pk.Name))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if ds, _ := e.DecideAll(pk); len(ds) != len(pk.Versions) {
			b.Fatal(len(ds))
		}
	}
}

// BenchmarkDecideAllMixedTrust is the trust rule's worst case: trust
// changing from release to release, so most versions are downgrades.
func BenchmarkDecideAllMixedTrust(b *testing.B) {
	pk := largePackument(b, "@vigil-test/big", 3000, true)
	e := benchEngine(b, benchInputs(pk.Name))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		e.DecideAll(pk)
	}
}

func BenchmarkFilter(b *testing.B) {
	pk := largePackument(b, "@vigil-test/big", 3000, false)
	e := benchEngine(b, benchInputs(pk.Name))
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if p := e.Filter(pk); len(p.Remove) == 0 || p.DistTags["latest"] == "" {
			b.Fatalf("remove %d, tags %v", len(p.Remove), p.DistTags)
		}
	}
}

// BenchmarkFilterWithAdvisories adds a lookup per version in the embedded
// snapshot and the fixture index, under a name the snapshot has records
// for ("debug"), so every lookup evaluates ranges.
func BenchmarkFilterWithAdvisories(b *testing.B) {
	pk := largePackument(b, "debug", 3000, false)
	in := benchInputs(pk.Name)
	in.Advisories = testAdvisories
	e := benchEngine(b, in)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		e.Filter(pk)
	}
}

// BenchmarkDecide is one version, as a tarball request without a cached
// plan needs: the trust scan and the fix search go over the whole
// packument.
func BenchmarkDecide(b *testing.B) {
	pk := largePackument(b, "@vigil-test/big", 3000, false)
	e := benchEngine(b, benchInputs(pk.Name))
	latest := pk.DistTags["latest"]
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if d := e.Decide(pk, latest); d.Action == Allow {
			b.Fatalf("%s: %+v", latest, d)
		}
	}
}

// reportCPU adds the CPU time per operation, steadier than ns/op when
// other processes share the machine.
func reportCPU(b *testing.B) func() {
	cpu0 := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	}
}

func TestLargePackumentShape(t *testing.T) {
	pk := largePackument(t, "@vigil-test/big", 3000, false)
	if len(pk.Versions) != 3000 {
		t.Fatalf("%d versions", len(pk.Versions))
	}
	e := newTestEngine(t, cooldown("3d"), Inputs{})
	p := e.Filter(pk)
	// One release an hour: the last 72 are in the cooldown.
	if len(p.Remove) != 72 {
		t.Errorf("%d removed, want the 72 of the last 3 days", len(p.Remove))
	}
	checkPlanInvariants(t, pk, &p)
	downgrades := 0
	for _, d := range p.Decisions {
		for _, r := range d.Reasons {
			if r.Rule == RuleTrustDowngrade {
				downgrades++
			}
		}
	}
	if downgrades != 1 {
		t.Errorf("%d trust downgrades, want the one token publish after trusted publishing", downgrades)
	}
}
