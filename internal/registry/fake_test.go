package registry

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRegistry behaves like registry.npmjs.org for the fixture packages:
// /<name> and /@scope%2fname serve the full document, or the abbreviated one
// when the Accept header asks for it; /<name>/-/<file>.tgz serves tarballs;
// /-/npm/v1/keys the signing keys. Responses carry an ETag and Last-Modified
// and answer If-None-Match with 304, and are gzipped when the client accepts
// it, as the registry's CDN does. Faults can be queued per path.
type fakeRegistry struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	full        map[string][]byte // by package name
	abbreviated map[string][]byte
	tarballs    map[string][]byte // by URL path, e.g. /@vigil-test/widget/-/widget-1.0.0.tgz
	keys        []byte
	faults      map[string][]fault // by URL path, consumed in order
	requests    []*http.Request
}

// fault replaces or distorts one response.
type fault struct {
	status     int           // answer with this status (and a JSON error body)
	retryAfter string        // Retry-After header for status
	delay      time.Duration // sleep before answering (slow registry)
	truncate   bool          // declare the full length, send half, close the connection
	corrupt    bool          // flip one byte of the body
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{
		t:           t,
		full:        map[string][]byte{},
		abbreviated: map[string][]byte{},
		tarballs:    map[string][]byte{},
		faults:      map[string][]fault{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// loadFixtures serves every fixture in testdata.
func (f *fakeRegistry) loadFixtures() *fakeRegistry {
	f.addPackument("@vigil-test/widget", "packuments/widget.json", "packuments/widget.abbreviated.json")
	f.addPackument("@x402/express", "packuments/x402-express.json", "packuments/x402-express.abbreviated.json")
	f.addPackument("is-number", "mirror/is-number.json", "")
	f.addPackument("rollup-config-mbp", "packuments/rollup-config-mbp.json", "")
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1", "2.0.0", "1.1.1", "2.0.1", "2.1.0", "2.1.1"} {
		f.tarballs["/@vigil-test/widget/-/widget-"+v+".tgz"] = readFixture(f.t, "tarballs/widget-"+v+".tgz")
	}
	f.tarballs["/@x402/express/-/express-2.12.0.tgz"] = readFixture(f.t, "tarballs/x402-express-2.12.0.tgz")
	f.tarballs["/is-number/-/is-number-7.0.0.tgz"] = readFixture(f.t, "tarballs/is-number-7.0.0.tgz")
	f.keys = readFixture(f.t, "keys.json")
	return f
}

func (f *fakeRegistry) addPackument(name, full, abbreviated string) {
	f.full[name] = readFixture(f.t, full)
	if abbreviated != "" {
		f.abbreviated[name] = readFixture(f.t, abbreviated)
	}
}

func (f *fakeRegistry) fail(path string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[path] = append(f.faults[path], faults...)
}

// count returns how many requests reached path.
func (f *fakeRegistry) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.URL.EscapedPath() == path {
			n++
		}
	}
	return n
}

func (f *fakeRegistry) last() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeRegistry) client(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.RetryBase == 0 {
		opts.RetryBase = time.Millisecond
	}
	c, err := New(f.srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	var flt *fault
	if q := f.faults[path]; len(q) > 0 {
		flt = &q[0]
		f.faults[path] = q[1:]
	}
	f.mu.Unlock()

	if flt != nil && flt.delay > 0 {
		select {
		case <-time.After(flt.delay):
		case <-r.Context().Done():
			return
		}
	}
	if flt != nil && flt.status != 0 {
		if flt.retryAfter != "" {
			w.Header().Set("Retry-After", flt.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(flt.status)
		_, _ = w.Write([]byte(`{"error":"` + http.StatusText(flt.status) + `"}`))
		return
	}

	var body []byte
	contentType := "application/octet-stream"
	f.mu.Lock()
	switch {
	case path == "/-/npm/v1/keys" && f.keys != nil:
		body, contentType = f.keys, "application/json"
	case strings.Contains(path, "/-/"):
		body = f.tarballs[unescape(path)]
	default:
		name := unescape(strings.TrimPrefix(path, "/"))
		body, contentType = f.full[name], "application/json"
		if strings.Contains(r.Header.Get("Accept"), MediaTypeAbbreviated) && f.abbreviated[name] != nil {
			body, contentType = f.abbreviated[name], MediaTypeAbbreviated
		}
	}
	f.mu.Unlock()
	if body == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not found"}`))
		return
	}
	sum := sha1.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Sun, 08 Sep 2024 14:05:12 GMT")
	w.Header().Set("Content-Type", contentType)
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && r.Header.Get("If-None-Match") == "" {
		if t, err := http.ParseTime(ims); err == nil && !t.Before(time.Date(2024, 9, 8, 14, 5, 12, 0, time.UTC)) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if flt != nil && flt.corrupt {
		body = append([]byte(nil), body...)
		body[len(body)/2] ^= 0xff
	}
	if flt != nil && flt.truncate {
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Error("cannot hijack")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			f.t.Error(err)
			return
		}
		defer conn.Close()
		writeTruncated(buf, contentType, body)
		return
	}
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && contentType != "application/octet-stream" {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = gz.Write(body)
		_ = gz.Close()
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// writeTruncated writes a response that promises len(body) bytes and
// delivers half.
func writeTruncated(buf *bufio.ReadWriter, contentType string, body []byte) {
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: " + contentType +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

func unescape(p string) string {
	s, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return s
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
