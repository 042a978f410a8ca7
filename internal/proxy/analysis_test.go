package proxy

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/tarball"
	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

// The evil-pkg fixture: 1.0.0 and 1.0.1 are clean, 1.1.0 (latest) carries
// a synthetic malicious postinstall (testdata/analysis/README.md).
const evilName = "evil-pkg"

var evilVersions = []struct{ version, dir string }{
	{"1.0.0", "evil-1.0.0"},
	{"1.0.1", "evil-1.0.0"}, // the clean files under another version
	{"1.1.0", "evil-1.1.0"},
}

// packFixture packs testdata/analysis/<dir> as npm pack lays a package
// out (package/<file>), with version written into package.json.
func packFixture(t testing.TB, dir, version string) []byte {
	t.Helper()
	root := filepath.Join("testdata", "analysis", dir)
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, en := range entries {
		b, err := os.ReadFile(filepath.Join(root, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if en.Name() == "package.json" {
			var pj map[string]any
			if err := json.Unmarshal(b, &pj); err != nil {
				t.Fatalf("%s: %v", filepath.Join(root, en.Name()), err)
			}
			pj["version"] = version
			if b, err = json.MarshalIndent(pj, "", "  "); err != nil {
				t.Fatal(err)
			}
		}
		files[en.Name()] = b
	}
	return tarballtest.Pack(t, files)
}

// servePackage adds a package to a fake registry: one version per tarball
// (in order; the last is latest), published a year before testNow, so no
// cooldown applies. It returns the tarballs' integrities by version.
func servePackage(t testing.TB, f *fakeRegistry, name string, versions []string, tarballs [][]byte) map[string]string {
	t.Helper()
	integrities := map[string]string{}
	vs := map[string]any{}
	times := map[string]string{"created": "2024-09-01T00:00:00.000Z", "modified": "2024-09-14T00:00:00.000Z"}
	paths := map[string][]byte{}
	for i, v := range versions {
		tgz := tarballs[i]
		sum := sha1.Sum(tgz)
		path := "/" + name + "/-/" + name + "-" + v + ".tgz"
		integrities[v] = sri(tgz)
		paths[path] = tgz
		arc, err := tarball.Read(context.Background(), bytes.NewReader(tgz), tarball.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if pj, err := arc.PackageJSON(); err != nil || json.Unmarshal(pj, &m) != nil {
			t.Fatalf("%s@%s: no package.json (%v)", name, v, err)
		}
		m["_id"] = name + "@" + v
		m["dist"] = map[string]any{"integrity": sri(tgz), "shasum": hex.EncodeToString(sum[:]), "tarball": strings.TrimSuffix(f.URL(), "/") + path}
		vs[v] = m
		times[v] = time.Date(2024, 9, 1+i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	}
	doc, err := json.Marshal(map[string]any{
		"_id": name, "name": name, "dist-tags": map[string]string{"latest": versions[len(versions)-1]},
		"versions": vs, "time": times, "license": "MIT",
	})
	if err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeRegistry) {
		f.docs[name] = doc
		for p, b := range paths {
			f.tarballs[p] = b
		}
	})
	return integrities
}

// analysisStack is a stack whose policy is internal/policy's engine with
// verdicts from a verdict cache folder, in front of a registry that also
// serves evil-pkg.
type analysisStack struct {
	*stack
	verdicts    *Verdicts
	disk        *verdictcache.Cache
	integrities map[string]string
	tarballs    map[string][]byte
}

type analysisStackOptions struct {
	onFirstRequest bool
	preAnalyseTags bool
	failOpen       bool
	verdictDir     string // default: a new temporary folder
	analysis       AnalysisOptions
}

// testEngine is the verdict cache fingerprint of the tests (the CLI adds
// its version; any fixed string does here).
var testEngine = verdictcache.Fingerprint(rules.All(), "proxy-test")

func startAnalysisStack(t testing.TB, o analysisStackOptions) *analysisStack {
	t.Helper()
	if o.verdictDir == "" {
		o.verdictDir = t.TempDir()
	}
	disk, err := verdictcache.Open(o.verdictDir, testEngine, verdictcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := NewVerdicts(disk, testLog(t))
	db, err := advisory.OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: testNow}
	var cfg config.Policy
	cfg.Analysis.OnFirstRequest = o.onFirstRequest
	cfg.Analysis.PreAnalyseTags = o.preAnalyseTags
	d, err := NewVerdictDecider(cfg, policy.Inputs{Advisories: db, Now: clock.Now}, vs)
	if err != nil {
		t.Fatal(err)
	}
	st := startStack(t, stackOptions{decider: d, clock: clock, failOpen: o.failOpen})
	// The stack's server has default analysis bounds; the tests set
	// their own before any request.
	st.server.analysis = newAnalyser(o.analysis)
	as := &analysisStack{stack: st, verdicts: vs, disk: disk, tarballs: map[string][]byte{}}
	var versions []string
	var tgzs [][]byte
	for _, v := range evilVersions {
		tgz := packFixture(t, v.dir, v.version)
		versions, tgzs = append(versions, v.version), append(tgzs, tgz)
		as.tarballs[v.version] = tgz
	}
	as.integrities = servePackage(t, st.upstream, evilName, versions, tgzs)
	return as
}

func (as *analysisStack) analyses() int64 { return as.server.analysis.runs.Load() }

func tarballOf(version string) string {
	return "/" + evilName + "/-/" + evilName + "-" + version + ".tgz"
}

// servedVersions lists the versions and dist-tags of the served packument.
func servedVersions(t *testing.T, st *stack, name string) (versions []string, tags map[string]string, notice string) {
	t.Helper()
	resp, body := st.get(t, "GET", "/"+name)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /%s: %d %s", name, resp.StatusCode, body)
	}
	var doc struct {
		DistTags map[string]string         `json:"dist-tags"`
		Versions map[string]map[string]any `json:"versions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for v := range doc.Versions {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions, doc.DistTags, resp.Header.Get("npm-notice")
}

// TestAnalysisFixturesVerdicts keeps the fixtures honest: vigil's engine
// finds 1.1.0 malicious and 1.0.0 clean.
func TestAnalysisFixturesVerdicts(t *testing.T) {
	for _, tc := range []struct {
		dir, version string
		want         analyze.Verdict
		rules        []string
	}{
		{"evil-1.0.0", "1.0.0", analyze.Clean, nil},
		{"evil-1.1.0", "1.1.0", analyze.Malicious, []string{"VGL-A002", "VGL-A050"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			arc, err := tarball.Read(context.Background(), bytes.NewReader(packFixture(t, tc.dir, tc.version)), tarball.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := analyze.Analyze(context.Background(), analyze.FromArchive(arc, evilName, tc.version, ""), analyze.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != tc.want {
				t.Fatalf("verdict %s (score %d), want %s: %+v", rep.Verdict, rep.Score, tc.want, rep.Findings)
			}
			summary := VerdictOf(rep).Summary
			for _, r := range tc.rules {
				if !strings.Contains(summary, r) {
					t.Errorf("summary %q lacks %s", summary, r)
				}
			}
		})
	}
}

// TestFirstRequestAnalysis: with on_first_request, a new version's tarball
// is analysed before it is served, malicious ones are refused with the
// rules named, the verdict is reused, shared with vigil analyze's cache,
// and the packument drops the version from then on.
func TestFirstRequestAnalysis(t *testing.T) {
	verdictDir := t.TempDir()
	as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, verdictDir: verdictDir})

	// Before any tarball request no verdict exists: the document lists
	// every version and latest is the malicious one (see docs/proxy.md:
	// versions are analysed when their tarball is first requested).
	versions, tags, _ := servedVersions(t, as.stack, evilName)
	if !slices.Equal(versions, []string{"1.0.0", "1.0.1", "1.1.0"}) || tags["latest"] != "1.1.0" {
		t.Fatalf("before analysis: versions %v, tags %v", versions, tags)
	}

	resp, body := as.get(t, "GET", tarballOf("1.1.0"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("malicious tarball: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"vigil blocked evil-pkg@1.1.0: ", "malicious", "VGL-A002 install-script-download", "VGL-A050 env-serialisation"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("403 body lacks %q: %s", want, body)
		}
	}
	if n := as.analyses(); n != 1 {
		t.Errorf("%d analyses after the first request, want 1", n)
	}

	// The second request is answered from the stored verdict.
	resp, body = as.get(t, "GET", tarballOf("1.1.0"))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "VGL-A002") {
		t.Errorf("second request: %d %s", resp.StatusCode, body)
	}
	if n := as.analyses(); n != 1 {
		t.Errorf("%d analyses after the second request, want 1 (verdict reused)", n)
	}

	// The clean version is analysed and served, byte for byte.
	resp, body = as.get(t, "GET", tarballOf("1.0.0"))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, as.tarballs["1.0.0"]) {
		t.Fatalf("clean tarball: %d (%d bytes)", resp.StatusCode, len(body))
	}
	if n := as.analyses(); n != 2 {
		t.Errorf("%d analyses, want 2", n)
	}
	if resp, _ = as.get(t, "GET", tarballOf("1.0.0")); resp.StatusCode != http.StatusOK || as.analyses() != 2 {
		t.Errorf("clean tarball again: %d, %d analyses", resp.StatusCode, as.analyses())
	}
	// The counters move with the analyses run, by verdict; none failed.
	m := as.server.metrics
	for _, c := range []struct {
		verdict string
		want    float64
	}{{"malicious", 1}, {"clean", 1}, {"suspicious", 0}} {
		if got := m.analyses.value(triggerFirstRequest, c.verdict); got != c.want {
			t.Errorf("analyses{trigger=first_request,verdict=%s} = %v, want %v", c.verdict, got, c.want)
		}
	}
	if got := m.analysisFailures.value(triggerFirstRequest); got != 0 {
		t.Errorf("analysis failures %v, want 0", got)
	}

	// The filtered document computed before the verdict was dropped: the
	// malicious version is gone and latest moved to the newest kept one.
	versions, tags, notice := servedVersions(t, as.stack, evilName)
	if !slices.Equal(versions, []string{"1.0.0", "1.0.1"}) || tags["latest"] != "1.0.1" {
		t.Errorf("after analysis: versions %v, tags %v", versions, tags)
	}
	if !strings.Contains(notice, "1.1.0 (vigil analyze found it malicious") {
		t.Errorf("npm-notice %q does not name the held version", notice)
	}
	// The version route agrees.
	if resp, body := as.get(t, "GET", "/"+evilName+"/1.1.0"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /evil-pkg/1.1.0: %d %s", resp.StatusCode, body)
	}

	// Download records say why.
	var blocked int
	for _, r := range as.records.all() {
		if r.Version == "1.1.0" {
			if r.Status != http.StatusForbidden || r.Action != policy.Block || !strings.Contains(r.Reason, "malicious") {
				t.Errorf("record %+v", r)
			}
			blocked++
		}
	}
	if blocked != 2 {
		t.Errorf("%d records of 1.1.0, want 2", blocked)
	}

	// The verdict is in the shared cache under the integrity, as vigil
	// analyze keys it: a project analysis finds it there.
	e, ok := as.disk.Get(context.Background(), as.integrities["1.1.0"])
	if !ok || e.Report.Verdict != analyze.Malicious || e.Report.Package != evilName {
		t.Fatalf("verdict cache entry for 1.1.0: %v %+v", ok, e)
	}

	// A proxy started later with the same folder and on_first_request
	// off uses the stored verdicts without analysing.
	later := startAnalysisStack(t, analysisStackOptions{verdictDir: verdictDir})
	if resp, body := later.get(t, "GET", tarballOf("1.1.0")); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "VGL-A002") {
		t.Errorf("restarted proxy: %d %s", resp.StatusCode, body)
	}
	if versions, _, _ := servedVersions(t, later.stack, evilName); slices.Contains(versions, "1.1.0") {
		t.Errorf("restarted proxy lists 1.1.0: %v", versions)
	}
	if n := later.analyses(); n != 0 {
		t.Errorf("restarted proxy ran %d analyses", n)
	}
}

// TestFirstRequestAnalysisCoalesced: concurrent first requests for one
// version share one analysis. The upstream holds the tarball until every
// client is waiting, so none of them finds a verdict already stored.
func TestFirstRequestAnalysisCoalesced(t *testing.T) {
	as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true})
	servedVersions(t, as.stack, evilName) // the document is cached: only the tarball waits
	gate := make(chan struct{})
	as.upstream.set(func(f *fakeRegistry) { f.gate = gate })
	const clients = 8
	statuses := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			resp, err := http.Get(as.proxy.URL + tarballOf("1.1.0"))
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for as.upstream.hitCount(tarballOf("1.1.0")) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the other clients reach the proxy
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusForbidden {
			t.Errorf("client %d: %d", i, s)
		}
	}
	if n := as.analyses(); n != 1 {
		t.Errorf("%d analyses for %d concurrent requests, want 1", n, clients)
	}
	if n := as.upstream.hitCount(tarballOf("1.1.0")); n != 1 {
		t.Errorf("%d upstream tarball requests, want 1", n)
	}
}

// TestFirstRequestAnalysisOff: without on_first_request and without a
// verdict, the tarball is served as the rest of the policy decides.
func TestFirstRequestAnalysisOff(t *testing.T) {
	as := startAnalysisStack(t, analysisStackOptions{})
	resp, body := as.get(t, "GET", tarballOf("1.1.0"))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, as.tarballs["1.1.0"]) {
		t.Fatalf("GET 1.1.0: %d %s", resp.StatusCode, body)
	}
	if n := as.analyses(); n != 0 {
		t.Errorf("%d analyses with on_first_request off", n)
	}
	if _, ok := as.disk.Get(context.Background(), as.integrities["1.1.0"]); ok {
		t.Error("a verdict was stored with on_first_request off")
	}
}

// putAnalyzeVerdict writes a verdict into the cache folder the way vigil
// analyze does for a project's dependency: the report of the tarball's
// bytes under its integrity.
func putAnalyzeVerdict(t *testing.T, disk *verdictcache.Cache, tgz []byte, name, version string) {
	t.Helper()
	arc, err := tarball.Read(context.Background(), bytes.NewReader(tgz), tarball.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := analyze.Analyze(context.Background(), analyze.FromArchive(arc, name, version, sri(tgz)), analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := disk.Put(context.Background(), sri(tgz), &verdictcache.Entry{Report: rep}); err != nil {
		t.Fatal(err)
	}
}

// TestVerdictsFromAnalyzeCache: verdicts vigil analyze wrote are honoured
// without on_first_request — those there before the document was read,
// and one written after it was filtered (found by the tarball request,
// which then drops the stale document).
func TestVerdictsFromAnalyzeCache(t *testing.T) {
	dir := t.TempDir()
	disk, err := verdictcache.Open(dir, testEngine, verdictcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	putAnalyzeVerdict(t, disk, packFixture(t, "evil-1.1.0", "1.1.0"), evilName, "1.1.0")

	as := startAnalysisStack(t, analysisStackOptions{verdictDir: dir})
	versions, tags, notice := servedVersions(t, as.stack, evilName)
	if slices.Contains(versions, "1.1.0") || tags["latest"] != "1.0.1" || !strings.Contains(notice, "malicious") {
		t.Errorf("versions %v, tags %v, notice %q", versions, tags, notice)
	}
	if resp, body := as.get(t, "GET", tarballOf("1.1.0")); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "VGL-A002") {
		t.Errorf("GET 1.1.0: %d %s", resp.StatusCode, body)
	}

	// A verdict arriving after the document was filtered: 1.0.1 is listed
	// now; vigil analyze (here: a synthetic malicious report) marks it.
	rep := &analyze.Report{Package: evilName, Version: "1.0.1", Verdict: analyze.Malicious, Score: 99,
		Findings: []analyze.Finding{{Rule: "VGL-A002", Name: "install-script-download", Severity: rules.Critical}}}
	if err := disk.Put(context.Background(), as.integrities["1.0.1"], &verdictcache.Entry{Report: rep}); err != nil {
		t.Fatal(err)
	}
	if resp, body := as.get(t, "GET", tarballOf("1.0.1")); resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "score 99") {
		t.Errorf("GET 1.0.1 after vigil analyze marked it: %d %s", resp.StatusCode, body)
	}
	if versions, tags, _ := servedVersions(t, as.stack, evilName); !slices.Equal(versions, []string{"1.0.0"}) || tags["latest"] != "1.0.0" {
		t.Errorf("after the new verdict: versions %v, tags %v", versions, tags)
	}
	if n := as.analyses(); n != 0 {
		t.Errorf("%d analyses, want 0", n)
	}
}

// TestFirstRequestAnalysisFailure: an analysis that cannot finish fails
// closed (503, Retry-After) or, with fail_open, serves with a warning; the
// failure is remembered, not retried on every request.
func TestFirstRequestAnalysisFailure(t *testing.T) {
	tiny := AnalysisOptions{Limits: tarball.Limits{MaxCompressed: 64}}
	for _, tc := range []struct {
		name     string
		failOpen bool
		opts     AnalysisOptions
		status   int
		want     string // in the body (closed) or X-Vigil-Warning (open)
	}{
		{"limit, fail closed", false, tiny, http.StatusServiceUnavailable, "could not analyse evil-pkg@1.1.0 before serving it (reading the tarball"},
		{"limit, fail open", true, tiny, http.StatusOK, "served unanalysed (fail_open)"},
		{"timeout, fail closed", false, AnalysisOptions{Timeout: time.Nanosecond}, http.StatusServiceUnavailable, "1ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, failOpen: tc.failOpen, analysis: tc.opts})
			for i := range 2 {
				resp, body := as.get(t, "GET", tarballOf("1.1.0"))
				got := string(body)
				if tc.failOpen {
					got = resp.Header.Get("X-Vigil-Warning")
				}
				if resp.StatusCode != tc.status || !strings.Contains(got, tc.want) {
					t.Fatalf("request %d: %d %q, want %d with %q", i, resp.StatusCode, got, tc.status, tc.want)
				}
				if tc.status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != fmt.Sprint(int(DefaultAnalysisRetry.Seconds())) {
					t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
				}
			}
			if len(as.server.analysis.failures) != 1 || as.analyses() != 0 {
				t.Errorf("%d failures remembered, %d analyses", len(as.server.analysis.failures), as.analyses())
			}
			// One analysis failed; the second request got the remembered
			// failure without another.
			if n := as.server.metrics.analysisFailures.value(triggerFirstRequest); n != 1 {
				t.Errorf("analysis failures counted %v, want 1", n)
			}
			if tc.status == http.StatusServiceUnavailable {
				// pnpm and yarn 4 print the reason phrase: the refusal says why there.
				resp, _ := as.get(t, "GET", tarballOf("1.1.0"), "User-Agent", "pnpm/10.15.0 npm/? node/v22.0.0 linux x64")
				if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Status, "could not analyse evil-pkg@1.1.0") || resp.Header.Get("Retry-After") == "" {
					t.Errorf("pnpm got %q (Retry-After %q), want the reason in the status line", resp.Status, resp.Header.Get("Retry-After"))
				}
			}
		})
	}
}

func TestPackageKeys(t *testing.T) {
	ups, err := newUpstreams([]Upstream{{URL: "http://registry.test/"}})
	if err != nil {
		t.Fatal(err)
	}
	up := ups.def
	match := packageKeys(up, "evil")
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{evalKey(docKey(up, "evil", ""), "id1", 3, 0), true},
		{renderKey(docKey(up, "evil", "Bearer x"), "id1", 3, 7, variantFull), true},
		{evalKey(docKey(up, "evil-twin", ""), "id1", 3, 0), false},
		{evalKey(docKey(up, "@x/evil", ""), "id1", 3, 0), false},
		{docKey(up, "evil", ""), false},
	} {
		if got := match(tc.key); got != tc.want {
			t.Errorf("match(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	c := newLRU[int](1 << 20)
	c.add(evalKey(docKey(up, "evil", ""), "a", 1, 0), 1, 10)
	c.add(evalKey(docKey(up, "evilx", ""), "a", 1, 0), 2, 10)
	if n := c.removeIf(match); n != 1 || c.size() != 10 {
		t.Errorf("removeIf removed %d, %d bytes left", n, c.size())
	}
}

func TestVerdictOf(t *testing.T) {
	f := func(rule, name string) analyze.Finding { return analyze.Finding{Rule: rule, Name: name} }
	for _, tc := range []struct {
		findings []analyze.Finding
		want     string
	}{
		{nil, ""},
		{[]analyze.Finding{f("VGL-A002", "a"), f("VGL-A002", "a"), f("VGL-A050", "b")}, "VGL-A002 a, VGL-A050 b"},
		{[]analyze.Finding{f("R1", "a"), f("R2", "b"), f("R3", "c"), f("R4", "d"), f("R5", "e"), f("R6", "f"), f("R5", "e")}, "R1 a, R2 b, R3 c, R4 d and 2 more rule(s)"},
	} {
		v := VerdictOf(&analyze.Report{Verdict: analyze.Suspicious, Score: 7, Findings: tc.findings})
		if v.Summary != tc.want || v.Level != policy.VerdictSuspicious || v.Score != 7 {
			t.Errorf("VerdictOf(%v) = %+v, want summary %q", tc.findings, v, tc.want)
		}
	}
}

// TestNPMFirstRequestAnalysis runs the real npm through a proxy that
// analyses on first request, for a range whose newest version is the
// malicious one. Implemented behaviour (no pre-analysis): the first
// install resolves ^1.0.0 to 1.1.0 from a document that still lists it,
// and fails on the tarball with vigil's 403 message; the next install
// gets a document without 1.1.0 and installs 1.0.1.
func TestNPMFirstRequestAnalysis(t *testing.T) {
	as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true})
	npm := newNPM(t, as.stack)

	first := npm.project(map[string]string{evilName: "^1.0.0"}, "")
	out, err := npm.run(first, "install")
	if err == nil {
		t.Fatalf("the first npm install succeeded:\n%s", out)
	}
	if !strings.Contains(out, "403 Forbidden") || !strings.Contains(out, "vigil blocked evil-pkg@1.1.0: vigil analyze found it malicious") || !strings.Contains(out, "VGL-A002") {
		t.Errorf("npm's output lacks the analysis message:\n%s", out)
	}
	if v := installedVersion(t, first, evilName); v != "" {
		t.Errorf("evil-pkg %s installed", v)
	}

	second := npm.project(map[string]string{evilName: "^1.0.0"}, "")
	out, err = npm.run(second, "install", "--prefer-online")
	if err != nil {
		t.Fatalf("the second npm install: %v\n%s", err, out)
	}
	if v := installedVersion(t, second, evilName); v != "1.0.1" {
		t.Errorf("installed evil-pkg %q, want 1.0.1\n%s", v, out)
	}
	if !strings.Contains(out, "vigil held back 1 version(s) of evil-pkg: 1.1.0 (vigil analyze found it malicious") {
		t.Errorf("npm did not print the held-back notice:\n%s", out)
	}
	if n := as.analyses(); n != 2 {
		t.Errorf("%d analyses, want 2 (1.1.0, then 1.0.1)", n)
	}
}

// benchPackage is a generated, clean-looking package of about 50 kB
// compressed (a typical npm tarball): four JavaScript modules of plain
// functions with varied identifiers and strings, and a package.json.
func benchPackage(t testing.TB, name, version string) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2)) // the same code in every version
	syllables := []string{"ka", "lo", "mi", "ne", "tu", "ra", "vo", "si", "pe", "xu", "do", "gi", "fa", "be", "zo", "wy"}
	word := func() string {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		return b.String()
	}
	files := map[string][]byte{
		"package.json": fmt.Appendf(nil, `{"name":%q,"version":%q,"main":"index.js","license":"MIT","dependencies":{}}`, name, version),
	}
	for _, file := range []string{"index.js", "lib/parse.js", "lib/format.js", "lib/util.js"} {
		var b strings.Builder
		b.WriteString("'use strict';\n\nconst path = require('path');\n\n")
		for b.Len() < 48_000 {
			fn, a, c, k := word(), word(), word(), word()
			fmt.Fprintf(&b, "function %s(%s, %s) {\n  const %s = %s.%s || %q;\n  if (%s.length > %d) {\n    return path.join(%s, %q);\n  }\n"+
				"  for (let i = 0; i < %s.length; i++) {\n    %s[i] = (%s[i] * %d + %d) %% %d;\n  }\n  return { %s: %s, %s: %q, n: %d };\n}\nmodule.exports.%s = %s;\n\n",
				fn, a, c, k, a, word(), word()+"-"+word(), c, r.IntN(100), k, word()+".json",
				c, c, c, r.IntN(1000), r.IntN(1000), 1+r.IntN(9999), word(), k, word(), word()+" "+word(), r.IntN(1_000_000), fn, fn)
		}
		files[file] = []byte(b.String())
	}
	return tarballtest.Pack(t, files)
}

// BenchmarkFirstRequestAnalysis measures what analysing on first request
// adds to a tarball cache miss: fetch + verify (+ analysis, storing the
// verdict and re-deciding the version) of a ~50 kB package, one new
// version per iteration. Compare the two sub-benchmarks:
//
//	go test ./internal/proxy -run XXX -bench FirstRequestAnalysis -benchtime 30x
func BenchmarkFirstRequestAnalysis(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("on_first_request=%v", on), func(b *testing.B) {
			as := startAnalysisStack(b, analysisStackOptions{onFirstRequest: on})
			versions := make([]string, b.N)
			tgzs := make([][]byte, b.N)
			for i := range b.N {
				versions[i] = fmt.Sprintf("1.0.%d", i)
				tgzs[i] = benchPackage(b, "bench-pkg", versions[i])
			}
			servePackage(b, as.upstream, "bench-pkg", versions, tgzs)
			if resp, body := as.get(b, "GET", "/bench-pkg"); resp.StatusCode != http.StatusOK {
				b.Fatalf("packument: %d %s", resp.StatusCode, body)
			}
			b.ResetTimer()
			for i := range b.N {
				if resp, body := as.get(b, "GET", "/bench-pkg/-/bench-pkg-"+versions[i]+".tgz"); resp.StatusCode != http.StatusOK || len(body) != len(tgzs[i]) {
					b.Fatalf("tarball %s: %d %.200s", versions[i], resp.StatusCode, body)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(len(tgzs[0])), "tarball-bytes")
			if !on {
				return
			}
			if n := as.analyses(); n != int64(b.N) {
				b.Fatalf("%d analyses, want %d", n, b.N)
			}
			if v, ok := as.verdicts.Lookup(context.Background(), sri(tgzs[0])); !ok || v.Level != policy.VerdictClean {
				b.Fatalf("the generated package's verdict: %+v %v, want clean", v, ok)
			}
		})
	}
}

// BenchmarkVerdictDecider measures what looking verdicts up costs when a
// document is evaluated: a package with 3,650 versions (distinct
// integrities, none analysed), with the engine alone, with verdicts whose
// misses are all read from the disk (a document evaluated for the first
// time), and with the misses remembered (re-evaluated within
// DefaultVerdictMissTTL).
//
//	go test ./internal/proxy -run XXX -bench VerdictDecider
func BenchmarkVerdictDecider(b *testing.B) {
	pk := &registry.Packument{Name: "big", DistTags: map[string]string{}, Versions: map[string]*registry.Manifest{}, Time: map[string]time.Time{}}
	for i := range 3650 {
		v := fmt.Sprintf("%d.%d.%d", i/400, (i/20)%20, i%20)
		digest := sha512.Sum512([]byte(v))
		pk.Versions[v] = &registry.Manifest{Name: "big", Version: v, Dist: registry.Dist{Integrity: "sha512-" + base64.StdEncoding.EncodeToString(digest[:])}}
		pk.Time[v] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		pk.DistTags["latest"] = v
	}
	db, err := advisory.OpenEmbedded()
	if err != nil {
		b.Fatal(err)
	}
	in := policy.Inputs{Advisories: db, Now: func() time.Time { return testNow }}
	eng, err := policy.New(config.Policy{}, in)
	if err != nil {
		b.Fatal(err)
	}
	disk, err := verdictcache.Open(b.TempDir(), testEngine, verdictcache.Options{})
	if err != nil {
		b.Fatal(err)
	}
	newDecider := func() Decider {
		d, err := NewVerdictDecider(config.Policy{}, in, NewVerdicts(disk, nil))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	warm := newDecider()
	warm.Evaluate(pk)
	for _, tc := range []struct {
		name string
		d    func() Decider
	}{
		{"engine-only", func() Decider { return EngineDecider{Engine: eng} }},
		{"verdicts-cold", newDecider},
		{"verdicts-remembered", func() Decider { return warm }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				d := tc.d()
				b.StartTimer()
				if ev := d.Evaluate(pk); len(ev.Decisions) != len(pk.Versions) {
					b.Fatalf("%d decisions", len(ev.Decisions))
				}
			}
		})
	}
}

// preAnalysesSettled reports whether n pre-analyses were started and none
// is under way (each one's re-decision included).
func (as *analysisStack) preAnalysesSettled(n int64) bool {
	a := as.server.analysis
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.preAnalyses.Load() == n && len(a.pending) == 0
}

// TestPreAnalyseTags: with pre_analyse_tags, serving evil-pkg's packument
// analyses its latest (1.1.0, malicious) in the background without holding
// the response; once the verdict has landed the packument leaves 1.1.0 out
// and latest points to 1.0.1, whose own analysis that request starts.
// Without the key nothing is analysed before a tarball is asked for.
func TestPreAnalyseTags(t *testing.T) {
	noWait := AnalysisOptions{TagWait: -1}
	t.Run("off", func(t *testing.T) {
		as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, analysis: noWait})
		for range 2 {
			versions, tags, _ := servedVersions(t, as.stack, evilName)
			if tags["latest"] != "1.1.0" || len(versions) != 3 {
				t.Fatalf("served %v, latest %q", versions, tags["latest"])
			}
		}
		if n := as.server.analysis.preAnalyses.Load(); n != 0 || as.analyses() != 0 {
			t.Errorf("%d pre-analyses, %d analyses; want none", n, as.analyses())
		}
		if n := as.server.metrics.analyses.value(triggerPreAnalysis, "malicious"); n != 0 {
			t.Errorf("pre-analyses counted: %v", n)
		}
	})
	t.Run("on", func(t *testing.T) {
		as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, preAnalyseTags: true, analysis: noWait})
		// The response is not held: it was decided before the analysis.
		if _, tags, _ := servedVersions(t, as.stack, evilName); tags["latest"] != "1.1.0" {
			t.Fatalf("latest %q on the first response, want 1.1.0 (never held without TagWait)", tags["latest"])
		}
		waitFor(t, func() bool { return as.preAnalysesSettled(1) })
		if n := as.server.metrics.analyses.value(triggerPreAnalysis, "malicious"); n != 1 || as.analyses() != 1 {
			t.Fatalf("%v malicious pre-analyses, %d analyses; want 1 and 1", n, as.analyses())
		}

		versions, tags, notice := servedVersions(t, as.stack, evilName)
		if !slices.Equal(versions, []string{"1.0.0", "1.0.1"}) || tags["latest"] != "1.0.1" {
			t.Fatalf("after the verdict: served %v, latest %q; want 1.0.0 1.0.1, latest 1.0.1", versions, tags["latest"])
		}
		if !strings.Contains(notice, "1.1.0 (vigil analyze found it malicious") {
			t.Errorf("notice %q", notice)
		}
		// latest moved to 1.0.1: that request pre-analysed it in turn.
		waitFor(t, func() bool { return as.preAnalysesSettled(2) })
		if n := as.server.metrics.analyses.value(triggerPreAnalysis, "clean"); n != 1 {
			t.Errorf("%v clean pre-analyses, want 1", n)
		}
		// Its tarball is served with the verdict in hand: no analysis more.
		if resp, _ := as.get(t, "GET", tarballOf("1.0.1")); resp.StatusCode != http.StatusOK {
			t.Fatalf("1.0.1 tarball: %d", resp.StatusCode)
		}
		if as.analyses() != 2 || as.server.metrics.analyses.value(triggerFirstRequest, "clean") != 0 {
			t.Errorf("%d analyses after the tarball request, want 2", as.analyses())
		}
		// Served documents now agree: nothing more to pre-analyse.
		servedVersions(t, as.stack, evilName)
		if n := as.server.analysis.preAnalyses.Load(); n != 2 {
			t.Errorf("%d pre-analyses, want 2", n)
		}
	})
}

// TestPreAnalyseTagsWait: a young tag target holds the packument response
// until its verdict (and that of the version the tag falls back to) has
// landed, so the first response already leaves the malicious latest out;
// an old one, or a bound too short, does not.
func TestPreAnalyseTagsWait(t *testing.T) {
	// The fixture is published a year before testNow.
	const young, old = 10 * 365 * 24 * time.Hour, time.Hour
	for _, tc := range []struct {
		name       string
		opts       AnalysisOptions
		wantLatest string
		outcome    string // the wait's histogram series; "" when none
	}{
		{"young, waits", AnalysisOptions{TagWait: 20 * time.Second, TagWaitMaxAge: young}, "1.0.1", "done"},
		{"old, no wait", AnalysisOptions{TagWait: 20 * time.Second, TagWaitMaxAge: old}, "1.1.0", ""},
		{"bound passes", AnalysisOptions{TagWait: time.Nanosecond, TagWaitMaxAge: young}, "1.1.0", "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, preAnalyseTags: true, analysis: tc.opts})
			versions, tags, _ := servedVersions(t, as.stack, evilName)
			if tags["latest"] != tc.wantLatest {
				t.Errorf("first response: latest %q, versions %v; want latest %s", tags["latest"], versions, tc.wantLatest)
			}
			for _, outcome := range []string{"done", "timeout", "canceled"} {
				want := uint64(0)
				if outcome == tc.outcome {
					want = 1
				}
				if got := histogramCount(t, as.server.metrics.tagWait, outcome); got != want {
					t.Errorf("waits with outcome %s: %d, want %d", outcome, got, want)
				}
			}
			// The response was held for both verdicts, or not at all; the
			// analyses finish either way.
			if tc.outcome == "done" {
				if as.analyses() != 2 {
					t.Errorf("%d analyses when the response was sent, want 2 (1.1.0, then 1.0.1)", as.analyses())
				}
				t.Logf("the first response was held %s", histogramSum(t, as.server.metrics.tagWait, "done"))
			}
			settled := int64(1) // 1.1.0; 1.0.1 too when the response waited for it
			if tc.outcome == "done" {
				settled = 2
			}
			waitFor(t, func() bool { return as.preAnalysesSettled(settled) })
			if n := as.server.metrics.analyses.value(triggerPreAnalysis, "malicious"); n != 1 {
				t.Errorf("%v malicious pre-analyses, want 1", n)
			}
		})
	}
}

// histogramCount is the number of observations in a histogram series.
func histogramCount(t *testing.T, h *histogramVec, values ...string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.vec.WithLabelValues(values...).(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// histogramSum is the total of the observations (seconds) in a series.
func histogramSum(t *testing.T, h *histogramVec, values ...string) time.Duration {
	t.Helper()
	var m dto.Metric
	if err := h.vec.WithLabelValues(values...).(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return time.Duration(m.GetHistogram().GetSampleSum() * float64(time.Second)).Round(time.Millisecond)
}

// TestNPMPreAnalysedTag: with pre_analyse_tags and a young malicious
// latest, the FIRST npm install of evil-pkg@^1.0.0 installs 1.0.1 — the
// packument response waited for the verdict — where without it (see
// TestNPMFirstRequestAnalysis) the first install fails with a 403.
func TestNPMPreAnalysedTag(t *testing.T) {
	as := startAnalysisStack(t, analysisStackOptions{onFirstRequest: true, preAnalyseTags: true,
		analysis: AnalysisOptions{TagWait: 20 * time.Second, TagWaitMaxAge: 10 * 365 * 24 * time.Hour}})
	npm := newNPM(t, as.stack)
	dir := npm.project(map[string]string{evilName: "^1.0.0"}, "")
	out, err := npm.run(dir, "install")
	if err != nil {
		t.Fatalf("the first npm install: %v\n%s", err, out)
	}
	if v := installedVersion(t, dir, evilName); v != "1.0.1" {
		t.Errorf("installed evil-pkg %q, want 1.0.1\n%s", v, out)
	}
	if !strings.Contains(out, "vigil held back 1 version(s) of evil-pkg: 1.1.0 (vigil analyze found it malicious") {
		t.Errorf("npm did not print the held-back notice:\n%s", out)
	}
	if n := as.server.metrics.analyses.value(triggerPreAnalysis, "malicious"); n != 1 {
		t.Errorf("%v malicious pre-analyses, want 1", n)
	}
	if n := as.server.metrics.analyses.value(triggerFirstRequest, "clean") + as.server.metrics.analyses.value(triggerFirstRequest, "malicious"); n != 0 {
		t.Errorf("%v first-request analyses, want none (the tag targets were analysed before)", n)
	}
}

// FuzzPublishTime: reading time[version] from any bytes never panics, and
// a time it returns is the one the document gives.
func FuzzPublishTime(f *testing.F) {
	f.Add([]byte(`{"time":{"1.1.0":"2025-09-14T11:00:00.000Z"}}`), "1.1.0")
	f.Add([]byte(`{"time":{"1.1.0":"not a time"}}`), "1.1.0")
	f.Add([]byte(`{"time":[]}`), "1.0.0")
	f.Add([]byte(`{"time":{"1\u002e0":"2025-09-14T11:00:00Z"}}`), "1.0")
	f.Fuzz(func(t *testing.T, body []byte, version string) {
		got, ok := publishTime(body, version)
		if !ok {
			return
		}
		var doc struct {
			Time map[string]string `json:"time"`
		}
		if json.Unmarshal(body, &doc) != nil {
			return // the scanner reads leniently what json rejects; nothing to compare
		}
		want, err := time.Parse(time.RFC3339, doc.Time[version])
		if err == nil && !want.Equal(got) {
			t.Fatalf("publishTime %v, encoding/json reads %v", got, want)
		}
	})
}
