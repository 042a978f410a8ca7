package cli

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

// lockedBuffer is a bytes.Buffer safe to read while Run writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tinyTarball is a package tarball as npm pack lays it out.
func tinyTarball(t *testing.T, name, version string) []byte {
	t.Helper()
	return tarballtest.Pack(t, map[string]string{"package.json": fmt.Sprintf(`{"name":%q,"version":%q}`, name, version)})
}

// fakeDebugRegistry serves debug 4.4.1 (clean) and 4.4.2 (MAL-2025-46974
// in the embedded snapshot).
func fakeDebugRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	tarballs := map[string][]byte{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tgz, ok := tarballs[r.URL.Path]; ok {
			w.Write(tgz)
			return
		}
		if r.URL.Path != "/debug" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"Not found"}`)
			return
		}
		var versions []string
		for _, v := range []string{"4.4.1", "4.4.2"} {
			path := "/debug/-/debug-" + v + ".tgz"
			if tarballs[path] == nil {
				tarballs[path] = tinyTarball(t, "debug", v)
			}
			sum := sha512.Sum512(tarballs[path])
			versions = append(versions, fmt.Sprintf(`%q:{"name":"debug","version":%q,"dist":{"integrity":"sha512-%s","tarball":"%s%s"}}`,
				v, v, base64.StdEncoding.EncodeToString(sum[:]), srv.URL, path))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"name":"debug","dist-tags":{"latest":"4.4.2"},"versions":{%s},"time":{"created":"2011-11-29T01:11:23.618Z","4.4.1":"2025-05-13T12:19:06.294Z","4.4.2":"2025-09-08T13:17:29.522Z","modified":"2025-09-08T13:17:30.000Z"}}`,
			strings.Join(versions, ","))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("npm-command", "install")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxyCommand(t *testing.T) {
	upstream := fakeDebugRegistry(t)
	dir := t.TempDir()
	storePath := filepath.Join(dir, "vigil.db")
	t.Setenv("VIGIL_DB", filepath.Join(dir, "no-db"))
	t.Setenv("VIGIL_CACHE_DIR", filepath.Join(dir, "verdicts"))
	t.Setenv("VIGIL_ADMIN_TOKEN", "admintok")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"proxy", "--upstream", upstream.URL, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
			"--cache-dir", filepath.Join(dir, "cache"), "--store", storePath, "--config", writeProxyConfig(t, dir)}, nil, stdout, stderr)
	}()
	serving := regexp.MustCompile(`serving (http://\S+/) `)
	admin := regexp.MustCompile(`admin API on (http://\S+/)`)
	var base, adminURL string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" {
		if m := serving.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			adminURL = admin.FindStringSubmatch(stdout.String())[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("proxy exited %d: %s%s", code, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy did not start: %s%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	code, body := httpGet(t, base+"debug", "")
	if code != 200 || strings.Contains(body, `"4.4.2":{`) || !strings.Contains(body, `"latest":"4.4.1"`) || !strings.Contains(body, base+"debug/-/debug-4.4.1.tgz") {
		t.Errorf("packument: %d %s", code, body)
	}
	if code, _ := httpGet(t, base+"debug/-/debug-4.4.1.tgz", ""); code != 200 {
		t.Errorf("clean tarball: %d", code)
	}
	// Through a trusted proxy (proxy.trusted_proxies: [127.0.0.1]): the
	// record names the client the proxy forwards.
	req, _ := http.NewRequest("GET", base+"debug/-/debug-4.4.2.tgz", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "vigil blocked debug@4.4.2: MAL-2025-46974") {
		t.Errorf("malware tarball: %d %s", resp.StatusCode, b)
	}
	if code, body := httpGet(t, adminURL+"held", "admintok"); code != 200 || !strings.Contains(body, `"name": "debug"`) {
		t.Errorf("admin /held: %d %s", code, body)
	}
	if code, _ := httpGet(t, adminURL+"held", ""); code != 401 {
		t.Errorf("admin without token: %d", code)
	}
	// Metrics: on the admin API; not on the registry listener unless
	// proxy.public_metrics says so. Health stays public.
	if code, body := httpGet(t, base+"-/vigil/metrics", ""); code != 404 {
		t.Errorf("public metrics: %d %s", code, body)
	}
	if code, _ := httpGet(t, base+"-/vigil/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, body := httpGet(t, adminURL+"metrics", "admintok"); code != 200 || !strings.Contains(body, "vigil_proxy_requests_total") {
		t.Errorf("admin metrics: %d %.200s", code, body)
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitClean {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("proxy did not stop")
	}
	if !strings.Contains(stdout.String(), "vigil proxy: stopped") {
		t.Errorf("stdout: %s", stdout)
	}
	// Shutdown flushed the batched download records.
	s, err := store.Open(context.Background(), storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds, err := s.Downloads(context.Background(), store.DownloadQuery{Name: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Version != "4.4.1" || ds[0].Status != 200 || ds[1].Action != policy.Block || ds[1].Status != 403 || ds[0].NpmCommand != "install" ||
		ds[0].Client != "127.0.0.1" || ds[1].Client != "203.0.113.9" {
		t.Errorf("records: %+v", ds)
	}
}

func writeProxyConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "vigil.yaml")
	writeFile(t, path, "policy:\n  advisories:\n    malware: block\nproxy:\n  trusted_proxies: [127.0.0.1]\n  cache:\n    packument_ttl: 1m\n")
	return path
}

func TestProxyCommandRefusesAdminWithoutToken(t *testing.T) {
	t.Setenv("VIGIL_CACHE_DIR", t.TempDir())
	t.Setenv("VIGIL_ADMIN_TOKEN", "")
	dir := t.TempDir()
	code, _, stderr := run(t, "proxy", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--cache-dir", dir, "--store", filepath.Join(dir, "s.db"))
	if code != ExitUsage || !strings.Contains(stderr, "VIGIL_ADMIN_TOKEN") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestProxyCommandBadFlags(t *testing.T) {
	t.Setenv("VIGIL_CACHE_DIR", t.TempDir())
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--scope", "acme=https://x/"},
		{"--scope", "@acme"},
		{"--upstream", "ftp://x/"},
		{"--public-url", "localhost:1"},
	} {
		code, _, stderr := run(t, append([]string{"proxy", "--cache-dir", dir, "--store", filepath.Join(dir, "s.db")}, args...)...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}

// forward_auth reaches the proxy: the default upstream does not forward
// client credentials unless vigil.yaml says so; a scope, from the file or
// from --scope, does.
func TestProxyUpstreamsForwardAuth(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.yaml")
	writeFile(t, path, "proxy:\n  cache: {dir: "+filepath.Join(dir, "cache")+"}\n  upstreams:\n"+
		"    - url: https://registry.npmjs.org/\n"+
		"    - url: https://npm.corp.example/\n      scopes: ['@corp']\n"+
		"    - url: https://npm.quiet.example/\n      scopes: ['@quiet']\n      forward_auth: false\n")
	e := &env{getenv: func(string) string { return "" }}
	f := proxyFlags{configPath: path, scopes: []string{"@flag=https://npm.flag.example/"}}
	cfg, err := proxyConfig(e, f, func(string) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	ups, err := upstreamsFrom(e, cfg.Proxy)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"https://registry.npmjs.org/": false,
		"https://npm.corp.example/":   true,
		"https://npm.quiet.example/":  false,
		"https://npm.flag.example/":   true,
	}
	if len(ups) != len(want) {
		t.Fatalf("%d upstreams: %+v", len(ups), ups)
	}
	for _, u := range ups {
		if u.ForwardAuth == nil || *u.ForwardAuth != want[u.URL] {
			t.Errorf("%s: ForwardAuth %v, want %v", u.URL, u.ForwardAuth, want[u.URL])
		}
	}
}
