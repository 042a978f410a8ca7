package proxy

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

// fakeRegistry is an httptest server that behaves like the npm registry
// for what the proxy uses: full and abbreviated packuments by Accept
// header, both URL forms of scoped names, tarballs, ETag/304 and gzip. Its
// documents are the real-format fixtures in testdata/packuments with
// their placeholders filled in: {{registry}} with its own URL and
// {{integrity name@version}} / {{shasum name@version}} with the hashes of
// tarballs built at start (buildTarball).
//
// Knobs let tests break it the ways real upstreams break: slow answers,
// error statuses, bodies cut short, tampered tarballs, auth required.
type fakeRegistry struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	docs     map[string][]byte // package name → full document
	tarballs map[string][]byte // URL path → bytes
	hits     map[string]int    // URL path → requests
	auths    map[string][]string
	// token: when set, requests must carry "Bearer <token>".
	token string
	// delay holds every answer this long (timeouts).
	delay time.Duration
	// failStatus answers every request with this status when set.
	failStatus int
	// tamper serves a tarball path with one byte changed.
	tamper map[string]bool
	// truncate declares a path's full length and sends half of it.
	truncate map[string]bool
	// gate, when set, holds requests until closed (coalescing tests).
	gate chan struct{}
}

var placeholder = regexp.MustCompile(`\{\{(integrity|shasum) ([^}]+)\}\}`)

// newFakeRegistry serves the named fixtures (file names under
// testdata/packuments without .json).
func newFakeRegistry(t testing.TB, fixtures ...string) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{t: t, docs: map[string][]byte{}, tarballs: map[string][]byte{}, hits: map[string]int{},
		auths: map[string][]string{}, tamper: map[string]bool{}, truncate: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	for _, name := range fixtures {
		raw, err := os.ReadFile(filepath.Join("testdata", "packuments", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f.addDocument(raw)
	}
	return f
}

// URL is the registry's base URL, ending in "/".
func (f *fakeRegistry) URL() string { return f.srv.URL + "/" }

// addDocument fills a fixture's placeholders, building one tarball per
// version it names, and serves it.
func (f *fakeRegistry) addDocument(raw []byte) {
	f.t.Helper()
	doc := strings.ReplaceAll(string(raw), "{{registry}}", f.URL())
	built := map[string][]byte{}
	doc = placeholder.ReplaceAllStringFunc(doc, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		spec := sub[2]
		tgz, ok := built[spec]
		if !ok {
			at := strings.LastIndexByte(spec, '@')
			tgz = buildTarball(f.t, spec[:at], spec[at+1:])
			built[spec] = tgz
		}
		if sub[1] == "shasum" {
			sum := sha1.Sum(tgz)
			return hex.EncodeToString(sum[:])
		}
		return sri(tgz)
	})
	var head struct {
		Name     string `json:"name"`
		Versions map[string]struct {
			Dist struct {
				Tarball string `json:"tarball"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal([]byte(doc), &head); err != nil {
		f.t.Fatalf("fixture: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[head.Name] = []byte(doc)
	for v, m := range head.Versions {
		path := strings.TrimPrefix(m.Dist.Tarball, f.srv.URL)
		f.tarballs[path] = built[head.Name+"@"+v]
	}
}

func sri(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// buildTarball makes a small package tarball as npm pack would lay it out:
// package/package.json and package/index.js.
func buildTarball(t testing.TB, name, version string) []byte {
	t.Helper()
	return tarballtest.Pack(t, map[string]string{
		"package.json": fmt.Sprintf(`{"name":%q,"version":%q,"main":"index.js","license":"MIT"}`, name, version),
		"index.js":     fmt.Sprintf("module.exports = %q;\n", name+"@"+version),
	})
}

// hitCount is how many requests reached path.
func (f *fakeRegistry) hitCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// totalHits is how many requests reached the registry.
func (f *fakeRegistry) totalHits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.hits {
		n += c
	}
	return n
}

// authsSeen lists the Authorization headers path received.
func (f *fakeRegistry) authsSeen(path string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auths[path]...)
}

func (f *fakeRegistry) set(fn func(f *fakeRegistry)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	f.auths[r.URL.Path] = append(f.auths[r.URL.Path], r.Header.Get("Authorization"))
	token, delay, failStatus, gate := f.token, f.delay, f.failStatus, f.gate
	tamper, truncate := f.tamper[r.URL.Path], f.truncate[r.URL.Path]
	f.mu.Unlock()

	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, `{"error":"authentication required"}`)
		return
	}
	if failStatus != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(failStatus)
		fmt.Fprintf(w, `{"error":"upstream says %d"}`+"\n", failStatus)
		return
	}
	if strings.Contains(r.URL.Path, "/-/") {
		f.serveTarball(w, r, tamper, truncate)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/") // %2f already decoded
	f.mu.Lock()
	doc, ok := f.docs[name]
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintln(w, `{"error":"Not found"}`)
		return
	}
	ct := "application/json"
	if strings.Contains(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json") {
		doc, ct = corgi(f.t, doc), "application/vnd.npm.install-v1+json"
	}
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if truncate {
		w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
		w.WriteHeader(http.StatusOK)
		w.Write(doc[:len(doc)/2])
		return
	}
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(doc)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		doc = gz.Bytes()
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
	w.Write(doc)
}

func (f *fakeRegistry) serveTarball(w http.ResponseWriter, r *http.Request, tamper, truncate bool) {
	f.mu.Lock()
	data, ok := f.tarballs[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintln(w, `{"error":"Not found"}`)
		return
	}
	if tamper {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	if truncate {
		w.Write(data[:len(data)/2])
		return
	}
	w.Write(data)
}

// corgi derives the abbreviated document the way the registry does.
func corgi(t testing.TB, full []byte) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(full, &doc); err != nil {
		t.Fatal(err)
	}
	var versions map[string]map[string]json.RawMessage
	json.Unmarshal(doc["versions"], &versions)
	out := map[string]any{"name": doc["name"], "dist-tags": doc["dist-tags"]}
	ab := map[string]any{}
	for v, m := range versions {
		keep := map[string]json.RawMessage{}
		for k, val := range m {
			if abbreviatedFields[k] {
				keep[k] = val
			}
		}
		ab[v] = keep
	}
	out["versions"] = ab
	var tm map[string]json.RawMessage
	json.Unmarshal(doc["time"], &tm)
	out["modified"] = tm["modified"]
	b, _ := json.Marshal(out)
	return b
}
