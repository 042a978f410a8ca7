package proxy

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const (
	acceptCorgi = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
	cooldown3d  = 72 * time.Hour
)

// topKeys returns an object's keys in document order.
func topKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	var keys []string
	if _, err := scanObject(doc, 0, func(m member) error {
		k, err := m.key(doc)
		keys = append(keys, k)
		return err
	}); err != nil {
		t.Fatalf("scanning %s: %v", doc, err)
	}
	return keys
}

// rawMember returns the raw bytes of doc's member at the key path.
func rawMember(t *testing.T, doc []byte, path ...string) []byte {
	t.Helper()
	start, end := 0, len(doc)
	for _, k := range path {
		m, ok, err := findMember(doc, start, k)
		if err != nil || !ok {
			t.Fatalf("no %v in document (%v)", path, err)
		}
		start, end = m.valueStart, m.valueEnd
	}
	return doc[start:end]
}

func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestFullPackumentFiltered(t *testing.T) {
	st := startStack(t, stackOptions{cooldown: cooldown3d})
	resp, body := st.get(t, "GET", "/debug", "Accept", "application/json")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if !json.Valid(body) {
		t.Fatalf("not JSON: %s", body)
	}
	upstream := st.upstream.docs["debug"]

	// Held back: 4.4.2 (MAL-2025-46974) and 4.4.3 (one day old, 3-day cooldown).
	if got, want := objectKeys(t, rawMember(t, body, "versions")), []string{"4.3.7", "4.4.0", "4.4.1"}; !slices.Equal(got, want) {
		t.Errorf("versions = %v, want %v", got, want)
	}
	if got := string(rawMember(t, body, "dist-tags")); got != `{"latest":"4.4.1"}` {
		t.Errorf("dist-tags = %s; want latest re-pointed to 4.4.1 and beta (on 4.4.2) dropped", got)
	}
	if got, want := objectKeys(t, rawMember(t, body, "time")), []string{"4.3.7", "4.4.0", "4.4.1", "created", "modified"}; !slices.Equal(got, want) {
		t.Errorf("time keys = %v, want %v", got, want)
	}
	// Key order and unknown fields survive byte for byte.
	if got, want := topKeys(t, body), topKeys(t, upstream); !slices.Equal(got, want) {
		t.Errorf("top-level keys\n got %v\nwant %v", got, want)
	}
	for _, k := range []string{"_rev", "readme", "users", "maintainers", "x-vigil-unknown", "repository"} {
		if got, want := rawMember(t, body, k), rawMember(t, upstream, k); !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n got %s\nwant %s", k, got, want)
		}
	}
	if !bytes.Contains(body, []byte(`{"number":2.50,"exp":1E+2,"nested":[true,null,"\u00e9"]}`)) {
		t.Error("number formatting or escapes of an unknown field were re-encoded")
	}
	// Each kept version is the upstream's object with only dist.tarball changed.
	for _, v := range []string{"4.3.7", "4.4.0", "4.4.1"} {
		got := rawMember(t, body, "versions", v)
		up := rawMember(t, upstream, "versions", v)
		oldURL := string(rawMember(t, up, "dist", "tarball"))
		newURL := `"` + st.publicURL() + "debug/-/debug-" + v + `.tgz"`
		if want := strings.Replace(string(up), oldURL, newURL, 1); string(got) != want {
			t.Errorf("version %s:\n got %s\nwant %s", v, got, want)
		}
	}
	notice := resp.Header.Get("npm-notice")
	for _, want := range []string{"vigil held back 2 version(s) of debug", "4.4.3", "4.4.2 (MAL-2025-46974"} {
		if !strings.Contains(notice, want) {
			t.Errorf("npm-notice %q lacks %q", notice, want)
		}
	}
	checkGolden(t, "debug.full.json", normalize(st, body))
}

func TestAbbreviatedPackumentDerived(t *testing.T) {
	st := startStack(t, stackOptions{cooldown: cooldown3d})
	resp, body := st.get(t, "GET", "/debug", "Accept", acceptCorgi)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.npm.install-v1+json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got, want := topKeys(t, body), []string{"name", "dist-tags", "versions", "modified"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if got, want := objectKeys(t, rawMember(t, body, "versions")), []string{"4.3.7", "4.4.0", "4.4.1"}; !slices.Equal(got, want) {
		t.Errorf("versions = %v, want %v", got, want)
	}
	if got, want := objectKeys(t, rawMember(t, body, "versions", "4.3.7")),
		[]string{"_hasShrinkwrap", "dependencies", "directories", "dist", "engines", "name", "peerDependenciesMeta", "version"}; !slices.Equal(got, want) {
		t.Errorf("4.3.7 fields = %v, want %v", got, want)
	}
	if got := string(rawMember(t, body, "modified")); got != `"2025-09-13T15:00:24.011Z"` {
		t.Errorf("modified = %s", got)
	}
	if got, want := string(rawMember(t, body, "versions", "4.4.1", "dist", "tarball")), `"`+st.publicURL()+`debug/-/debug-4.4.1.tgz"`; got != want {
		t.Errorf("tarball = %s, want %s", got, want)
	}
	// One upstream request (the full document) serves both forms.
	st.get(t, "GET", "/debug", "Accept", "application/json")
	if n := st.upstream.hitCount("/debug"); n != 1 {
		t.Errorf("upstream asked %d times for /debug, want 1", n)
	}
	checkGolden(t, "debug.abbreviated.json", normalize(st, body))
}

func TestAbbreviatedHasInstallScript(t *testing.T) {
	st := startStack(t, stackOptions{dryRun: true}) // dry run: 4.4.2 stays listed
	_, body := st.get(t, "GET", "/debug", "Accept", acceptCorgi)
	if got := string(rawMember(t, body, "versions", "4.4.2", "hasInstallScript")); got != "true" {
		t.Errorf("4.4.2 hasInstallScript = %s, want true (it has a postinstall)", got)
	}
	if bytes.Contains(rawMember(t, body, "versions", "4.4.1"), []byte("hasInstallScript")) {
		t.Error("4.4.1 has no install script but is flagged")
	}
	if bytes.Contains(body, []byte(`"scripts"`)) {
		t.Error("the abbreviated form carries scripts")
	}
}

func TestVariantFor(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   variant
	}{
		{"", variantFull},
		{"application/json", variantFull},
		{"*/*", variantFull},
		{acceptCorgi, variantAbbreviated},
		{"application/vnd.npm.install-v1+json", variantAbbreviated},
		{"application/vnd.npm.install-v1+json;q=0.5, application/json", variantFull},
		{"application/vnd.npm.install-v1+json;q=0", variantFull},
		{"garbage;;;, application/vnd.npm.install-v1+json", variantAbbreviated},
	} {
		if got := variantFor(tc.accept); got != tc.want {
			t.Errorf("variantFor(%q) = %s, want %s", tc.accept, got, tc.want)
		}
	}
}

func TestCooldownEndsWithoutReload(t *testing.T) {
	st := startStack(t, stackOptions{cooldown: cooldown3d, ttl: 1000 * time.Hour})
	_, body := st.get(t, "GET", "/debug")
	if bytes.Contains(rawMember(t, body, "versions"), []byte(`"4.4.3"`)) {
		t.Fatal("4.4.3 served during its cooldown")
	}
	// 4.4.3 was published 2025-09-13T15:00Z: its cooldown ends 09-16T15:00Z.
	st.clock.Advance(52 * time.Hour)
	_, body = st.get(t, "GET", "/debug")
	if !bytes.Contains(rawMember(t, body, "versions"), []byte(`"4.4.3"`)) {
		t.Error("4.4.3 still held after its cooldown ended")
	}
	if got := string(rawMember(t, body, "dist-tags")); got != `{"latest":"4.4.3"}` {
		t.Errorf("dist-tags = %s", got)
	}
	if n := st.upstream.hitCount("/debug"); n != 1 {
		t.Errorf("upstream asked %d times; the document was fresh, only the policy's answer expired", n)
	}
}

func TestConditionalAndHead(t *testing.T) {
	st := startStack(t, stackOptions{})
	// Nothing of ms is held back: clients may store it and revalidate.
	if resp, _ := st.get(t, "GET", "/ms"); resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("ms: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// debug 4.4.2 is: no-store, so npm prints the notice on every install.
	resp, body := st.get(t, "GET", "/debug")
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	resp2, body2 := st.get(t, "GET", "/debug", "If-None-Match", etag)
	if resp2.StatusCode != http.StatusNotModified || len(body2) != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes; want 304, none", resp2.StatusCode, len(body2))
	}
	resp3, _ := st.get(t, "GET", "/debug", "If-None-Match", `"other"`)
	if resp3.StatusCode != 200 {
		t.Errorf("a stale ETag got %d", resp3.StatusCode)
	}
	head, hbody := st.get(t, "HEAD", "/debug")
	if head.StatusCode != 200 || len(hbody) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("HEAD: %d, body %d bytes, Content-Length %s (GET sent %d)", head.StatusCode, len(hbody), head.Header.Get("Content-Length"), len(body))
	}
}

func TestUpstreamRevalidation(t *testing.T) {
	st := startStack(t, stackOptions{ttl: time.Minute})
	st.get(t, "GET", "/ms")
	st.clock.Advance(2 * time.Minute)
	resp, body := st.get(t, "GET", "/ms")
	if resp.StatusCode != 200 || !json.Valid(body) {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := st.upstream.hitCount("/ms"); n != 2 {
		t.Fatalf("upstream hits %d, want 2 (fetch, then revalidation)", n)
	}
	if got := st.server.metrics.cacheLookups.value("packument", "revalidated"); got != 1 {
		t.Errorf("revalidated = %v, want 1 (the upstream answered 304)", got)
	}
}

func TestGzip(t *testing.T) {
	st := startStack(t, stackOptions{})
	_, plain := st.get(t, "GET", "/debug")
	resp, gz := st.get(t, "GET", "/debug", "Accept-Encoding", "gzip, deflate")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Error("gzip body differs from the identity body")
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == st.mustETag(t) {
		t.Error("the gzip representation needs an ETag of its own")
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
}

func (st *stack) mustETag(t *testing.T) string {
	resp, _ := st.get(t, "GET", "/debug")
	return resp.Header.Get("ETag")
}

func TestVersionRoute(t *testing.T) {
	st := startStack(t, stackOptions{cooldown: cooldown3d})
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/debug/4.4.1", 200, `"version":"4.4.1"`},
		{"/debug/latest", 200, `"version":"4.4.1"`},
		{"/debug/4.4.2", 403, "vigil blocked debug@4.4.2: MAL-2025-46974"},
		{"/debug/4.4.3", 403, "vigil blocked debug@4.4.3"},
		{"/debug/9.9.9", 404, "Not found"},
	} {
		resp, body := st.get(t, "GET", tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s; want %d with %q", tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	_, body := st.get(t, "GET", "/debug/4.4.1")
	if !strings.Contains(string(body), st.publicURL()+"debug/-/debug-4.4.1.tgz") {
		t.Errorf("tarball not rewritten: %s", body)
	}
}

func TestEveryVersionHeld(t *testing.T) {
	st := startStack(t, stackOptions{quarantine: []policy.QuarantineEntry{{Package: "ms", Reason: "incident 42"}}})
	resp, body := st.get(t, "GET", "/ms")
	if resp.StatusCode != 403 || !strings.Contains(string(body), "vigil blocked every version of ms: 2.1.3: ms quarantined: incident 42") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// normalize replaces what changes from run to run (the proxy's port, the
// fake registry's port, tarball hashes) in a served document.
func normalize(st *stack, body []byte) []byte {
	s := strings.ReplaceAll(string(body), st.publicURL(), "http://proxy.test/")
	s = strings.ReplaceAll(s, st.upstream.URL(), "http://upstream.test/")
	s = regexp.MustCompile(`sha512-[A-Za-z0-9+/=]+`).ReplaceAllString(s, "sha512-…")
	s = regexp.MustCompile(`"shasum":"[0-9a-f]{40}"`).ReplaceAllString(s, `"shasum":"…"`)
	return []byte(s)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got %s\nwant %s", name, got, want)
	}
}
