package advisory

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// synthDB writes records shaped like the public feeds — ~45% malware
// records over random names (whole package, some with versions lists),
// ~45% vulnerabilities with 1–3 intervals, ~10% over the scanned names —
// and imports them from a zip. It returns the database folder and the
// 4,000 name@version pairs a scan would look up.
func synthDB(tb testing.TB, records, lookups int) (string, []npm.PackageVersion, time.Duration) {
	tb.Helper()
	r := rand.New(rand.NewPCG(20261128, 1))
	ver := func() string { return fmt.Sprintf("%d.%d.%d", r.IntN(16), r.IntN(21), r.IntN(31)) }
	long := strings.Repeat("An attacker may exploit crafted input to do bad things. ", 20)
	scanned := make([]npm.PackageVersion, lookups)
	for i := range scanned {
		name := fmt.Sprintf("dep-%05d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("@scope%d/dep-%05d", i%37, i)
		}
		scanned[i] = npm.PackageVersion{Name: name, Version: ver()}
	}
	files := make(map[string]string, records)
	for i := range records {
		var rec map[string]any
		name := fmt.Sprintf("random-%06d-%d", i, r.IntN(1000))
		switch k := r.IntN(100); {
		case k < 10: // over a scanned name; 6% affect the scanned version
			p := scanned[r.IntN(len(scanned))]
			name = p.Name
			fixed := "0.0.1-0" // below every scanned version
			if r.IntN(100) < 6 {
				v := npm.MustParseVersion(p.Version)
				fixed = fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch+1)
			}
			events := []map[string]string{{"introduced": "0"}, {"fixed": fixed}}
			rec = vulnRecord(fmt.Sprintf("GHSA-syn-%06d", i), name, events, long)
		case k < 55:
			aff := map[string]any{"package": map[string]string{"ecosystem": "npm", "name": name},
				"ranges": []any{map[string]any{"type": "SEMVER", "events": []map[string]string{{"introduced": "0"}}}}}
			if r.IntN(10) < 4 {
				aff["versions"] = []string{ver(), ver()}
			}
			rec = map[string]any{"id": fmt.Sprintf("MAL-syn-%06d", i), "modified": "2025-01-01T00:00:00Z",
				"summary": "Malicious code in " + name + " (npm)", "details": long, "affected": []any{aff},
				"database_specific": map[string]any{"malicious-packages-origins": []any{map[string]string{"source": "synthetic"}}}}
		default:
			events := []map[string]string{{"introduced": ver()}, {"fixed": ver()}, {"introduced": ver()}, {"fixed": ver()}}
			rec = vulnRecord(fmt.Sprintf("GHSA-syn-%06d", i), name, events, long)
		}
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		files[rec["id"].(string)+".json"] = string(data)
	}
	// Not tb.TempDir: the database is shared by several benchmarks.
	tmp, err := os.MkdirTemp("", "vigil-advisory-bench-")
	if err != nil {
		tb.Fatal(err)
	}
	benchDirs = append(benchDirs, tmp)
	zipPath := filepath.Join(tmp, "all.zip")
	if err := os.WriteFile(zipPath, zipOf(tb, files), 0o644); err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tmp, "db")
	start := time.Now()
	if _, err := Import(context.Background(), dir, []Source{{zipPath}}, ImportOptions{}); err != nil {
		tb.Fatal(err)
	}
	return dir, scanned, time.Since(start)
}

func vulnRecord(id, name string, events []map[string]string, details string) map[string]any {
	return map[string]any{"id": id, "modified": "2025-01-01T00:00:00Z", "summary": "Something in " + name,
		"details": details, "aliases": []string{"CVE-2025-1"},
		"severity": []map[string]string{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}},
		"affected": []any{map[string]any{"package": map[string]string{"ecosystem": "npm", "name": name},
			"ranges": []any{map[string]any{"type": "SEMVER", "events": events}}}},
		"references":        []map[string]string{{"type": "ADVISORY", "url": "https://example.invalid/" + id}},
		"database_specific": map[string]any{"severity": "HIGH", "github_reviewed": true}}
}

// benchDirs are removed by TestMain.
var benchDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

var (
	synthOnce    sync.Once
	synthDir     string
	synthLookups []npm.PackageVersion
)

// BenchmarkOpenAndMatch is what a scan pays: open a 50,000-record
// database and look up 4,000 packages, loading the matched records.
func BenchmarkOpenAndMatch(b *testing.B) {
	synthOnce.Do(func() {
		var took time.Duration
		synthDir, synthLookups, took = synthDB(b, 50_000, 4_000)
		b.Logf("imported 50,000 synthetic records in %v", took)
	})
	benchOpenAndMatch(b, synthDir, synthLookups)
}

func benchOpenAndMatch(b *testing.B, dir string, lookups []npm.PackageVersion) {
	st, err := Status(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	matches := 0
	cpu0 := cpuTime()
	for b.Loop() {
		db, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		matches = 0
		for _, p := range lookups {
			ms, err := db.Match(p.Name, p.Version)
			if err != nil {
				b.Fatal(err)
			}
			matches += len(ms)
		}
		db.Close()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(matches), "matches")
	b.ReportMetric(float64(st.IndexBytes)/(1<<20), "index-MiB")
}

// BenchmarkMatchOnly is the lookup cost on an open database.
func BenchmarkMatchOnly(b *testing.B) {
	synthOnce.Do(func() { synthDir, synthLookups, _ = synthDB(b, 50_000, 4_000) })
	db, err := Open(synthDir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op") }()
	for b.Loop() {
		for _, p := range synthLookups {
			if _, err := db.Match(p.Name, p.Version); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOpenEmbedded is the first-use cost of the embedded snapshot
// with an up-to-date snapshot.db: a digest of snapshot/ and a parse.
func BenchmarkOpenEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		db, err := openFS(context.Background(), snapshot, snapshotDir, snapshotName, prebuilt)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Match("debug", "4.4.2"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildEmbedded is the fallback when snapshot.db is stale.
func BenchmarkBuildEmbedded(b *testing.B) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op") }()
	for b.Loop() {
		if _, err := buildFS(context.Background(), snapshot, "snapshot", "embedded snapshot"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorpusZip measures the realistic database of
// ../shared/bench/gen_osv_db.py against the packages of a real lockfile:
//
//	VIGIL_BENCH_OSV_ZIP=/tmp/osvdb/all.zip \
//	VIGIL_BENCH_LOCKFILE=../shared/corpus/lockfiles/monorepo-large/npm-v3/package-lock.json \
//	go test ./internal/advisory -run '^$' -bench CorpusZip
func BenchmarkCorpusZip(b *testing.B) {
	zipPath, lockPath := os.Getenv("VIGIL_BENCH_OSV_ZIP"), os.Getenv("VIGIL_BENCH_LOCKFILE")
	if zipPath == "" || lockPath == "" {
		b.Skip("set VIGIL_BENCH_OSV_ZIP and VIGIL_BENCH_LOCKFILE (see the comment) to run")
	}
	lookups := lockfilePackages(b, lockPath)
	dir := filepath.Join(b.TempDir(), "db")
	start := time.Now()
	m, err := Import(context.Background(), dir, []Source{{zipPath}}, ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("import: %v, %+v, index %d bytes, records %d bytes, %d lookups",
		time.Since(start), m.Counts, m.IndexBytes, m.RecordBytes, len(lookups))
	benchOpenAndMatch(b, dir, lookups)
}

// lockfilePackages reads name@version pairs from a package-lock.json v2/v3
// (only what the benchmark needs; internal/lockfile owns real parsing).
func lockfilePackages(tb testing.TB, path string) []npm.PackageVersion {
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Link    bool   `json:"link"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		tb.Fatal(err)
	}
	seen := map[npm.PackageVersion]bool{}
	var out []npm.PackageVersion
	for key, p := range lock.Packages {
		i := strings.LastIndex(key, "node_modules/")
		if i < 0 || p.Link || p.Version == "" {
			continue
		}
		name := key[i+len("node_modules/"):]
		if p.Name != "" {
			name = p.Name
		}
		pv := npm.PackageVersion{Name: name, Version: p.Version}
		if !seen[pv] {
			seen[pv] = true
			out = append(out, pv)
		}
	}
	return out
}

// TestCorpusExpected compares every match over a real lockfile with the
// findings gen_osv_db.py expects (its own evaluation of the OSV rules):
//
//	VIGIL_BENCH_OSV_ZIP=/tmp/osvdb/all.zip VIGIL_BENCH_MANIFEST=/tmp/osvdb/manifest.json \
//	VIGIL_BENCH_LOCKFILE=../shared/corpus/lockfiles/monorepo-large/npm-v3/package-lock.json \
//	go test ./internal/advisory -run CorpusExpected
func TestCorpusExpected(t *testing.T) {
	zipPath, lockPath, manifest := os.Getenv("VIGIL_BENCH_OSV_ZIP"), os.Getenv("VIGIL_BENCH_LOCKFILE"), os.Getenv("VIGIL_BENCH_MANIFEST")
	if zipPath == "" || lockPath == "" || manifest == "" {
		t.Skip("set VIGIL_BENCH_OSV_ZIP, VIGIL_BENCH_LOCKFILE and VIGIL_BENCH_MANIFEST (see the comment) to run")
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Expected [][3]string `json:"expected"` // id, name, version
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[[3]string]bool{}
	for _, e := range m.Expected {
		want[e] = true
	}
	dir := filepath.Join(t.TempDir(), "db")
	if _, err := Import(context.Background(), dir, []Source{{zipPath}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[[3]string]bool{}
	for _, p := range lockfilePackages(t, lockPath) {
		ms, err := db.Match(p.Name, p.Version)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ms {
			got[[3]string{x.Record.ID, p.Name, p.Version}] = true
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missed %v", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("unexpected %v", k)
		}
	}
	t.Logf("%d findings, %d expected", len(got), len(want))
}
