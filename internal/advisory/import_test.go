package advisory

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for n, data := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func malRec(id, pkg, version, modified string, extra ...string) string {
	s := `{"id":"` + id + `","modified":"` + modified + `","summary":"Malicious code in ` + pkg + ` (npm)",` +
		`"affected":[{"package":{"ecosystem":"npm","name":"` + pkg + `"},"versions":["` + version + `"]}]`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

func matchIDs(t *testing.T, m Matcher, name, version string) []string {
	t.Helper()
	ms, err := m.Match(name, version)
	if err != nil {
		t.Fatalf("Match(%s, %s): %v", name, version, err)
	}
	var ids []string
	for _, x := range ms {
		ids = append(ids, x.Record.ID)
	}
	return ids
}

func TestImportKinds(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	// An OSV.dev-style zip, with a folder entry, a non-JSON file, a
	// record for another ecosystem and a broken file among the records.
	zipPath := filepath.Join(tmp, "all.zip")
	os.WriteFile(zipPath, zipOf(t, map[string]string{
		"MAL-1.json": malRec("MAL-1", "zip-pkg", "1.0.0", "2025-01-01T00:00:00Z"),
		"nested/GHSA-1.json": rec("GHSA-1", "["+rng("zip-vuln", "SEMVER", `[{"introduced":"0"},{"fixed":"2.0.0"}]`)+"]",
			`"database_specific":{"severity":"HIGH"}`),
		"PYSEC-1.json": `{"id":"PYSEC-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}`,
		"broken.json":  `{"id":`,
		"README.md":    "not a record",
	}), 0o644)
	// A malicious-packages-like tree: withdrawn records skipped, hidden
	// folders ignored.
	tree := filepath.Join(tmp, "osv")
	writeFiles(t, tree, map[string]string{
		"malicious/npm/tree-pkg/MAL-2.json": malRec("MAL-2", "tree-pkg", "3.1.4", "2025-01-01T00:00:00Z"),
		"withdrawn/npm/gone/MAL-3.json":     malRec("MAL-3", "gone", "1.0.0", "2025-01-01T00:00:00Z", `"withdrawn":"2025-02-01T00:00:00Z"`),
		".git/objects/MAL-4.json":           malRec("MAL-4", "hidden", "1.0.0", "2025-01-01T00:00:00Z"),
	})
	single := filepath.Join(tmp, "single.json")
	os.WriteFile(single, []byte(malRec("MAL-5", "single-pkg", "0.0.1", "2025-01-01T00:00:00Z")), 0o644)
	array := filepath.Join(tmp, "array.json")
	os.WriteFile(array, []byte("[\n"+malRec("MAL-6", "arr-a", "1.0.0", "2025-01-01T00:00:00Z")+",\n"+
		malRec("MAL-7", "arr-b", "1.0.0", "2025-01-01T00:00:00Z")+"]"), 0o644)
	served := zipOf(t, map[string]string{"MAL-8.json": malRec("MAL-8", "url-pkg", "1.0.0", "2025-01-01T00:00:00Z")})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(served) }))
	defer srv.Close()

	dir := filepath.Join(tmp, "db")
	m, err := Import(ctx, dir, []Source{{zipPath}, {tree}, {single}, {array}, {srv.URL + "/all.zip"}}, ImportOptions{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Records: 7, Malware: 6, Withdrawn: 1, Invalid: 1, NotNPM: 1, Packages: 7}
	if m.Counts != want {
		t.Errorf("counts = %+v, want %+v", m.Counts, want)
	}
	if len(m.Problems) != 1 || !strings.Contains(m.Problems[0], "broken.json") {
		t.Errorf("problems = %q", m.Problems)
	}
	kinds := []string{}
	for _, s := range m.Sources {
		kinds = append(kinds, s.Kind)
		if s.SHA256 == "" || s.Fetched.IsZero() || s.Records == 0 {
			t.Errorf("source state %+v", s)
		}
	}
	if !slices.Equal(kinds, []string{"zip", "dir", "json", "json", "zip"}) {
		t.Errorf("kinds = %v", kinds)
	}

	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		name, version, id string
	}{
		{"zip-pkg", "1.0.0", "MAL-1"}, {"zip-vuln", "1.9.9", "GHSA-1"}, {"tree-pkg", "3.1.4", "MAL-2"},
		{"single-pkg", "0.0.1", "MAL-5"}, {"arr-a", "1.0.0", "MAL-6"}, {"arr-b", "1.0.0", "MAL-7"}, {"url-pkg", "1.0.0", "MAL-8"},
	} {
		if ids := matchIDs(t, db, c.name, c.version); !slices.Equal(ids, []string{c.id}) {
			t.Errorf("%s@%s matched %v, want %s", c.name, c.version, ids, c.id)
		}
	}
	for _, c := range [][2]string{{"gone", "1.0.0"}, {"hidden", "1.0.0"}, {"zip-vuln", "2.0.0"}, {"x", "1.0.0"}, {"nope", "1.0.0"}} {
		if ids := matchIDs(t, db, c[0], c[1]); len(ids) != 0 {
			t.Errorf("%s@%s matched %v", c[0], c[1], ids)
		}
	}
	ms, _ := db.Match("zip-vuln", "1.0.0")
	if len(ms) != 1 || ms[0].Severity != SeverityHigh || ms[0].Malicious || !slices.Equal(ms[0].Fixed, []string{"2.0.0"}) {
		t.Errorf("zip-vuln match = %+v", ms)
	}
	ms, _ = db.Match("zip-pkg", "1.0.0")
	if len(ms) != 1 || ms[0].Severity != SeverityCritical || !ms[0].Malicious || ms[0].Record.Summary == "" {
		t.Errorf("zip-pkg match = %+v", ms)
	}
	info := db.Info()
	if info.Source != dir || info.Records != 7 || info.Built.IsZero() || info.Embedded {
		t.Errorf("info = %+v", info)
	}

	st, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts != want || len(st.Sources) != 5 || st.Age < 0 || st.IndexBytes == 0 || st.RecordBytes == 0 {
		t.Errorf("status = %+v", st)
	}
}

// TestImportRejectsUselessSource: replacing a good database with an empty
// one because a source was the wrong file helps nobody.
func TestImportRejectsUselessSource(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.json")
	os.WriteFile(good, []byte(malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")), 0o644)
	dir := filepath.Join(tmp, "db")
	if _, err := Import(context.Background(), dir, []Source{{good}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	pypi := filepath.Join(tmp, "pypi.json")
	os.WriteFile(pypi, []byte(`{"id":"PYSEC-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}`), 0o644)
	garbage := filepath.Join(tmp, "garbage.json")
	os.WriteFile(garbage, []byte("<html>"), 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	for _, src := range []string{pypi, garbage, filepath.Join(tmp, "missing.zip"), srv.URL} {
		_, err := Import(context.Background(), dir, []Source{{good}, {src}}, ImportOptions{Client: srv.Client()})
		if err == nil {
			t.Errorf("import of %s succeeded", src)
		}
		db, err := Open(dir)
		if err != nil {
			t.Fatalf("previous database lost after failed import of %s: %v", src, err)
		}
		if ids := matchIDs(t, db, "p", "1.0.0"); !slices.Equal(ids, []string{"MAL-1"}) {
			t.Errorf("previous database changed: %v", ids)
		}
		db.Close()
	}
	assertOneGeneration(t, dir)
}

func assertOneGeneration(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	gens := 0
	for _, n := range names {
		if strings.HasPrefix(n, genPrefix) {
			gens++
		}
		if strings.HasPrefix(n, tmpPrefix) || n == currentFile+".tmp" {
			t.Errorf("leftover %s in %v", n, names)
		}
	}
	if gens != 1 {
		t.Errorf("%d generations in %v, want 1", gens, names)
	}
}

// TestCrashLeavesPreviousDB simulates crashes at each step of a swap: a
// half-written temporary folder, a committed-but-unreferenced generation
// and a half-written pointer all leave the previous database in charge,
// and the next import sweeps them.
func TestCrashLeavesPreviousDB(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "r.json")
	os.WriteFile(src, []byte(malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")), 0o644)
	dir := filepath.Join(tmp, "db")
	if _, err := Import(context.Background(), dir, []Source{{src}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"tmp-123/index.bin":  "partial",
		"gen-999/index.bin":  "not referenced",
		currentFile + ".tmp": "gen-999\n",
	})
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ids := matchIDs(t, db, "p", "1.0.0"); len(ids) != 1 {
		t.Errorf("ids = %v", ids)
	}
	db.Close()
	os.WriteFile(src, []byte(malRec("MAL-2", "q", "1.0.0", "2025-01-01T00:00:00Z")), 0o644)
	if _, err := Import(context.Background(), dir, []Source{{src}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	assertOneGeneration(t, dir)
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ids := matchIDs(t, db, "q", "1.0.0"); len(ids) != 1 {
		t.Errorf("ids = %v", ids)
	}
	if ids := matchIDs(t, db, "p", "1.0.0"); len(ids) != 0 {
		t.Errorf("stale record after re-import: %v", ids)
	}
}

func TestUpdateConditional(t *testing.T) {
	var (
		mu       sync.Mutex
		body     = zipOf(t, map[string]string{"MAL-1.json": malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")})
		etag     = `"v1"`
		requests []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 28 Nov 2026 00:00:00 GMT")
		w.Write(body)
	}))
	defer srv.Close()
	// A second, local source: unchanged local files must not force a
	// rebuild, and a 304 source must be fetched again when another changed.
	tmp := t.TempDir()
	local := filepath.Join(tmp, "local")
	writeFiles(t, local, map[string]string{"MAL-9.json": malRec("MAL-9", "loc", "1.0.0", "2025-01-01T00:00:00Z")})
	dir := filepath.Join(tmp, "db")
	opts := ImportOptions{Client: srv.Client()}
	m, err := Import(context.Background(), dir, []Source{{srv.URL + "/npm/all.zip"}, {local}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sources[0].ETag != `"v1"` || m.Sources[0].LastModified == "" {
		t.Fatalf("source state = %+v", m.Sources[0])
	}
	res, err := Update(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated || !res.Manifest.Built.Equal(m.Built) {
		t.Errorf("unchanged update rebuilt: %+v", res)
	}
	if got := requests[len(requests)-1]; got != `"v1"|Sat, 28 Nov 2026 00:00:00 GMT` {
		t.Errorf("conditional request headers = %q", got)
	}
	assertOneGeneration(t, dir)

	// The local folder changes; the server still answers 304.
	writeFiles(t, local, map[string]string{"MAL-10.json": malRec("MAL-10", "loc2", "1.0.0", "2025-01-01T00:00:00Z")})
	n := len(requests)
	res, err = Update(context.Background(), dir, opts)
	if err != nil || !res.Updated {
		t.Fatalf("update after local change: %+v, %v", res, err)
	}
	if got := requests[n:]; len(got) != 2 || got[1] != "|" {
		t.Errorf("requests = %q, want a conditional then an unconditional fetch", got)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p", "loc", "loc2"} {
		if ids := matchIDs(t, db, p, "1.0.0"); len(ids) != 1 {
			t.Errorf("%s: %v", p, ids)
		}
	}
	db.Close()

	// The server's content changes.
	mu.Lock()
	body = zipOf(t, map[string]string{"MAL-1.json": malRec("MAL-1", "p", "2.0.0", "2025-06-01T00:00:00Z")})
	etag = `"v2"`
	mu.Unlock()
	res, err = Update(context.Background(), dir, opts)
	if err != nil || !res.Updated || res.Manifest.Sources[0].ETag != `"v2"` {
		t.Fatalf("update after server change: %+v, %v", res, err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ids := matchIDs(t, db, "p", "2.0.0"); len(ids) != 1 {
		t.Errorf("new record not imported: %v", ids)
	}
	if ids := matchIDs(t, db, "p", "1.0.0"); len(ids) != 0 {
		t.Errorf("old record kept: %v", ids)
	}
	assertOneGeneration(t, dir)
}

// TestUpdateWithoutValidators: a server sending no ETag still gets a
// no-op update when the content digest is unchanged.
func TestUpdateWithoutValidators(t *testing.T) {
	body := []byte(malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	dir := t.TempDir()
	if _, err := Import(context.Background(), dir, []Source{{srv.URL}}, ImportOptions{Client: srv.Client()}); err != nil {
		t.Fatal(err)
	}
	res, err := Update(context.Background(), dir, ImportOptions{Client: srv.Client()})
	if err != nil || res.Updated {
		t.Errorf("update = %+v, %v", res, err)
	}
}

func TestUpdateWithoutDB(t *testing.T) {
	_, err := Update(context.Background(), t.TempDir(), ImportOptions{})
	if !errors.Is(err, ErrNoDB) {
		t.Errorf("err = %v, want ErrNoDB", err)
	}
}

func TestDedupAcrossSources(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a.json"), filepath.Join(tmp, "b.json")
	os.WriteFile(a, []byte("["+malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")+","+
		malRec("MAL-2", "q", "1.0.0", "2025-01-01T00:00:00Z")+"]"), 0o644)
	// b has a newer MAL-1 (other version) and withdraws MAL-2 later.
	os.WriteFile(b, []byte("["+malRec("MAL-1", "p", "2.0.0", "2025-06-01T00:00:00Z")+","+
		malRec("MAL-2", "q", "1.0.0", "2025-06-01T00:00:00Z", `"withdrawn":"2025-06-01T00:00:00Z"`)+"]"), 0o644)
	for _, order := range [][]Source{{{a}, {b}}, {{b}, {a}}} {
		dir := t.TempDir()
		m, err := Import(context.Background(), dir, order, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Counts.Duplicates != 2 || m.Counts.Records != 1 || m.Counts.Withdrawn != 1 {
			t.Errorf("counts = %+v", m.Counts)
		}
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ids := matchIDs(t, db, "p", "2.0.0"); len(ids) != 1 {
			t.Errorf("newer MAL-1 missing")
		}
		if ids := matchIDs(t, db, "p", "1.0.0"); len(ids) != 0 || len(matchIDs(t, db, "q", "1.0.0")) != 0 {
			t.Errorf("older or withdrawn record kept")
		}
		db.Close()
	}
}

func TestImportLimits(t *testing.T) {
	tmp := t.TempDir()
	big := malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z", `"details":"`+strings.Repeat("x", 5000)+`"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) }))
	defer srv.Close()
	_, err := Import(context.Background(), filepath.Join(tmp, "db1"), []Source{{srv.URL}}, ImportOptions{Client: srv.Client(), MaxDownload: 1000})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized download: %v", err)
	}
	zipPath := filepath.Join(tmp, "all.zip")
	os.WriteFile(zipPath, zipOf(t, map[string]string{"MAL-1.json": big}), 0o644)
	_, err = Import(context.Background(), filepath.Join(tmp, "db2"), []Source{{zipPath}}, ImportOptions{MaxRecordSize: 1000})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized zip entry: %v", err)
	}
	_, err = Import(context.Background(), filepath.Join(tmp, "db3"), []Source{{zipPath}}, ImportOptions{MaxUncompressed: 1000})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized zip: %v", err)
	}
}

func TestImportCancelled(t *testing.T) {
	tmp := t.TempDir()
	files := map[string]string{}
	for i := range 200 {
		id := "MAL-" + strings.Repeat("1", i%7+1) + "-" + time.Duration(i).String()
		files[id+".json"] = malRec(id, "p", "1.0.0", "2025-01-01T00:00:00Z")
	}
	writeFiles(t, filepath.Join(tmp, "tree"), files)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Import(ctx, filepath.Join(tmp, "db"), []Source{{filepath.Join(tmp, "tree")}}, ImportOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := Open(filepath.Join(tmp, "db")); !errors.Is(err, ErrNoDB) {
		t.Errorf("open after cancelled first import: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoDB) {
		t.Errorf("absent: %v", err)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "r.json")
	os.WriteFile(src, []byte(malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")), 0o644)
	fresh := func() (string, string) {
		dir := t.TempDir()
		if _, err := Import(context.Background(), dir, []Source{{src}}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		gen, err := currentGen(dir)
		if err != nil {
			t.Fatal(err)
		}
		return dir, filepath.Join(dir, gen)
	}

	dir, _ := fresh()
	os.WriteFile(filepath.Join(dir, currentFile), []byte("../../etc\n"), 0o644)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad pointer: %v", err)
	}

	for name, damage := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)-3] },
		"flipped":   func(b []byte) []byte { b[len(b)-2] ^= 0xff; return b },
		"magic":     func(b []byte) []byte { b[0] = 'X'; return b },
		"version":   func(b []byte) []byte { b[8] = 99; return b },
		"empty":     func([]byte) []byte { return nil },
	} {
		dir, gen := fresh()
		p := filepath.Join(gen, indexFile)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, damage(b), 0o644)
		if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s index: %v", name, err)
		}
	}

	dir, gen := fresh()
	p := filepath.Join(gen, recordsFile)
	b, _ := os.ReadFile(p)
	b[5] ^= 0x20
	os.WriteFile(p, b, 0o644)
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Match("p", "1.0.0"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged record: %v", err)
	}
}

// TestConcurrentUseAndClose: matches from many goroutines share the
// record cache, and a closed DB fails cleanly instead of reading unmapped
// memory.
func TestConcurrentUseAndClose(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "r.json")
	os.WriteFile(src, []byte("["+malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z")+","+
		rec("GHSA-1", "["+rng("p", "SEMVER", `[{"introduced":"0"},{"fixed":"2.0.0"}]`)+"]")+"]"), 0o644)
	dir := filepath.Join(tmp, "db")
	if _, err := Import(context.Background(), dir, []Source{{src}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	m := NewMulti(db, emb)
	var wg sync.WaitGroup
	records := make(chan *Record, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ms, err := m.Match("p", "1.0.0")
				if err != nil || len(ms) != 2 {
					t.Errorf("Match = %d, %v", len(ms), err)
					return
				}
				select {
				case records <- ms[0].Record:
				default:
				}
			}
		}()
	}
	wg.Wait()
	close(records)
	var first *Record
	for r := range records {
		if first == nil {
			first = r
		} else if r != first {
			t.Error("record decoded more than once")
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := db.Match("p", "1.0.0"); !errors.Is(err, ErrClosed) {
		t.Errorf("Match after Close: %v", err)
	}
	if first.ID != "GHSA-1" || first.Affected[0].Package.Name != "p" {
		t.Errorf("record returned before Close is damaged: %+v", first)
	}
	// The shared embedded snapshot survives a Multi's Close.
	if ms, err := emb.Match("debug", "4.4.2"); err != nil || len(ms) == 0 {
		t.Errorf("embedded after Multi.Close: %d, %v", len(ms), err)
	}
}
