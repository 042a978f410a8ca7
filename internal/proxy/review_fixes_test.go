package proxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/proxy/cache"
)

// namelessDoc registers a document without "name" for pkg (versions 1.0.0
// and 1.0.1) on f, with its tarballs.
func namelessDoc(t *testing.T, f *fakeRegistry, pkg string) {
	t.Helper()
	tgz0, tgz1 := buildTarball(t, pkg, "1.0.0"), buildTarball(t, pkg, "1.0.1")
	doc := fmt.Sprintf(`{"dist-tags":{"latest":"1.0.1"},"time":{"1.0.0":"2020-01-01T00:00:00Z","1.0.1":"2020-01-02T00:00:00Z"},"versions":{`+
		`"1.0.0":{"version":"1.0.0","dist":{"integrity":%q,"tarball":"%s%s/-/%s-1.0.0.tgz"}},`+
		`"1.0.1":{"version":"1.0.1","dist":{"integrity":%q,"tarball":"%s%s/-/%s-1.0.1.tgz"}}}}`,
		sri(tgz0), f.URL(), pkg, pkg, sri(tgz1), f.URL(), pkg, pkg)
	f.set(func(f *fakeRegistry) {
		f.docs[pkg] = []byte(doc)
		f.tarballs["/"+pkg+"/-/"+pkg+"-1.0.0.tgz"] = tgz0
		f.tarballs["/"+pkg+"/-/"+pkg+"-1.0.1.tgz"] = tgz1
	})
}

// A document without "name" is evaluated under the route's name every
// time, not only when it was just fetched: after a policy change (the
// cached body is parsed again), a revalidation (304) and a restart, the
// quarantined version stays refused and out of the document, and tarball
// URLs name the package.
func TestNamelessCachedDocumentKeepsRouteName(t *testing.T) {
	q := []policy.QuarantineEntry{{Package: "nameless", Versions: "1.0.1", Reason: "compromised"}}
	st := startStack(t, stackOptions{quarantine: q, ttl: time.Minute})
	namelessDoc(t, st.upstream, "nameless")
	check := func(when string) {
		t.Helper()
		resp, body := st.get(t, "GET", "/nameless/-/nameless-1.0.1.tgz")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "quarantined: compromised") {
			t.Errorf("%s: quarantined tarball: %d %.200s", when, resp.StatusCode, body)
		}
		resp, body = st.get(t, "GET", "/nameless")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: packument: %d %s", when, resp.StatusCode, body)
		}
		if got := objectKeys(t, rawMember(t, body, "versions")); !slices.Equal(got, []string{"1.0.0"}) {
			t.Errorf("%s: versions %v, want the quarantined 1.0.1 removed", when, got)
		}
		if got, want := string(rawMember(t, body, "versions", "1.0.0", "dist", "tarball")), `"`+st.publicURL()+`nameless/-/nameless-1.0.0.tgz"`; got != want {
			t.Errorf("%s: tarball URL %s, want %s", when, got, want)
		}
		resp, _ = st.get(t, "GET", "/nameless/-/nameless-1.0.0.tgz")
		if resp.StatusCode != 200 {
			t.Errorf("%s: clean tarball: %d", when, resp.StatusCode)
		}
	}
	check("fresh fetch")
	st.server.SetDecider(st.decider) // a reload or a quarantine change
	check("after a new policy generation")
	st.clock.Advance(time.Hour) // past the TTL: revalidated, 304
	check("after a revalidation")
	if n := st.upstream.hitCount("/nameless"); n != 2 {
		t.Errorf("upstream asked %d times for the document, want 2 (fetch, revalidation)", n)
	}

	// A restart: a new server over the same cache, the document on disk.
	h := httptest.NewUnstartedServer(nil)
	srv, err := New(Options{Upstreams: []Upstream{{URL: st.upstream.URL()}}, PublicURL: "http://" + h.Listener.Addr().String() + "/",
		Cache: st.cache, Decider: st.decider, Now: st.clock.Now, Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	h.Config.Handler = srv.Handler()
	h.Start()
	t.Cleanup(h.Close)
	st.proxy, st.server = h, srv
	check("after a restart")
	if n := st.upstream.hitCount("/nameless"); n != 3 {
		t.Errorf("upstream asked %d times for the document, want 3", n)
	}
}

// A cached body naming another package is refused, as a fresh one is,
// and dropped so that the next request fetches the document again.
func TestCachedDocumentOfAnotherPackageRefused(t *testing.T) {
	st := startStack(t, stackOptions{})
	if resp, body := st.get(t, "GET", "/ms"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	st.upstream.mu.Lock()
	debugDoc := st.upstream.docs["debug"]
	st.upstream.mu.Unlock()
	key := docKey(st.server.ups.def, "ms", "")
	for _, path := range []string{"/ms", "/ms/2.1.3", "/ms/-/ms-2.1.3.tgz"} {
		// The disk entry of "ms" now holds debug's document (an older
		// release's cache, a swapped file); the new generation makes the
		// proxy evaluate the cached body again.
		old, err := st.cache.Document(key)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.cache.PutDocument(key, &cache.Document{Body: debugDoc, ContentType: "application/json", ETag: old.ETag, FetchedAt: old.FetchedAt}); err != nil {
			t.Fatal(err)
		}
		st.server.SetDecider(st.decider)
		resp, body := st.get(t, "GET", path)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(errorBody(t, body), "cannot read") {
			t.Errorf("%s: %d %s; want 502", path, resp.StatusCode, body)
		}
		if strings.Contains(string(body), "debug-4.4.1") {
			t.Errorf("%s: served debug's document", path)
		}
		// Dropped on the refusal: fetched afresh, served again.
		if resp, body := st.get(t, "GET", "/ms"); resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"ms"`) {
			t.Errorf("after the refusal: %d %.200s", resp.StatusCode, body)
		}
	}
	if n := st.upstream.hitCount("/ms"); n != 4 {
		t.Errorf("upstream asked %d times, want 4 (first fetch, one after each refusal)", n)
	}
}

// The default upstream (a third party: registry.npmjs.org) never receives
// the client's Authorization — the token npm sends to the proxy's host.
func TestDefaultUpstreamNeverSeesClientAuth(t *testing.T) {
	st := startStack(t, stackOptions{})
	for _, path := range []string{"/ms", "/ms/2.1.3", "/ms/-/ms-2.1.3.tgz", "/-/whoami", "/-/v1/search?text=ms"} {
		st.get(t, "GET", path, "Authorization", "Bearer proxy-host-token")
	}
	for _, path := range []string{"/ms", "/ms/-/ms-2.1.3.tgz", "/-/whoami", "/-/v1/search"} {
		got := st.upstream.authsSeen(path)
		if len(got) == 0 {
			t.Errorf("%s: never asked", path)
		}
		for _, a := range got {
			if a != "" {
				t.Errorf("%s: the default upstream received Authorization %q", path, a)
			}
		}
	}
	// The scoped upstream still receives it (forward_auth's scoped default).
	st.get(t, "GET", "/@acme%2finternal", "Authorization", "Bearer private")
	st.get(t, "GET", "/@acme/internal/-/internal-1.0.0.tgz", "Authorization", "Bearer private")
	for _, path := range []string{"/@acme/internal", "/@acme/internal/-/internal-1.0.0.tgz"} {
		if got := st.private.authsSeen(path); !slices.Equal(got, []string{"Bearer private"}) {
			t.Errorf("%s: the scoped upstream received %q", path, got)
		}
	}
}

// Random Authorization values on a public package neither bypass the
// cache nor the coalescing: one upstream fetch, one cache entry.
func TestRandomAuthSharesPublicDocument(t *testing.T) {
	st := startStack(t, stackOptions{})
	// Concurrent first requests, each with its own credential: coalesced.
	gate := make(chan struct{})
	st.upstream.set(func(f *fakeRegistry) { f.gate = gate })
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := st.get(t, "GET", "/ms", "Authorization", fmt.Sprintf("Bearer junk-concurrent-%d", i))
			statuses[i] = resp.StatusCode
		}()
	}
	waitFor(t, func() bool { return st.upstream.hitCount("/ms") >= 1 })
	time.Sleep(50 * time.Millisecond) // let the others join the flight
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("request %d: %d", i, s)
		}
	}
	// Sequential ones: cached.
	for i := range 50 {
		if resp, _ := st.get(t, "GET", "/ms", "Authorization", fmt.Sprintf("Bearer junk%d", i)); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if n := st.upstream.hitCount("/ms"); n != 1 {
		t.Errorf("upstream fetched /ms %d times, want 1", n)
	}
	if n := st.cache.Stats().Documents; n != 1 {
		t.Errorf("%d cached documents, want 1", n)
	}
}

// forward_auth: true on the default upstream (a private mirror as the
// default) forwards the client's credentials, and keys the document by
// them.
func TestForwardAuthToDefaultUpstream(t *testing.T) {
	st := startStack(t, stackOptions{publicForwardAuth: true})
	st.get(t, "GET", "/ms", "Authorization", "Bearer a")
	st.get(t, "GET", "/ms", "Authorization", "Bearer b")
	st.get(t, "GET", "/ms", "Authorization", "Bearer a")
	if got := st.upstream.authsSeen("/ms"); !slices.Equal(got, []string{"Bearer a", "Bearer b"}) {
		t.Errorf("the default upstream received %q", got)
	}
}

// Where client credentials are forwarded, fetches keyed by distinct
// credentials are bounded per upstream.
func TestCredentialedFetchesBounded(t *testing.T) {
	st := startStack(t, stackOptions{})
	gate := make(chan struct{})
	st.private.set(func(f *fakeRegistry) { f.gate = gate })
	const n = 3 * DefaultMaxCredentialFetches
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := st.get(t, "GET", "/@acme%2finternal", "Authorization", fmt.Sprintf("Bearer cred-%d", i))
			statuses[i] = resp.StatusCode
		}()
	}
	waitFor(t, func() bool { return st.private.hitCount("/@acme/internal") >= DefaultMaxCredentialFetches })
	time.Sleep(100 * time.Millisecond)
	if got := st.private.hitCount("/@acme/internal"); got != DefaultMaxCredentialFetches {
		t.Errorf("%d concurrent credentialed fetches, want at most %d", got, DefaultMaxCredentialFetches)
	}
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("request %d: %d", i, s)
		}
	}
	if got := st.private.hitCount("/@acme/internal"); got != n {
		t.Errorf("%d fetches, want %d (one per credential)", got, n)
	}
}

// An unreadable document, or another package's, is never served raw — not
// even with fail_open: its tarball URLs point at the upstream.
func TestUnreadableDocumentNeverServed(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		st := startStack(t, stackOptions{failOpen: failOpen})
		st.upstream.set(func(f *fakeRegistry) {
			f.docs["odd"] = []byte(`{"name":"odd","versions":{"1.0.0":"not an object"}}`)
			f.docs["impostor"] = f.docs["ms"] // {"name":"ms",…}
		})
		for _, path := range []string{"/odd", "/odd/1.0.0", "/odd/-/odd-1.0.0.tgz", "/impostor", "/impostor/2.1.3", "/impostor/-/impostor-2.1.3.tgz"} {
			resp, body := st.get(t, "GET", path)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(errorBody(t, body), "failing closed") {
				t.Errorf("fail_open %v: %s: %d %s; want 502", failOpen, path, resp.StatusCode, body)
			}
			if resp.Header.Get("X-Vigil-Warning") != "" || strings.Contains(string(body), st.upstream.URL()) {
				t.Errorf("fail_open %v: %s: served the upstream's document", failOpen, path)
			}
		}
	}
}

// The metrics are not on the registry listener unless asked for; health
// is; the admin API serves the metrics behind its token.
func TestPublicMetricsOffByDefault(t *testing.T) {
	a := startAdmin(t, stackOptions{noPublicMetrics: true})
	if resp, body := a.get(t, "GET", "/-/vigil/metrics"); resp.StatusCode != http.StatusNotFound || !strings.Contains(errorBody(t, body), "admin API") {
		t.Errorf("public metrics: %d %s", resp.StatusCode, body)
	}
	if resp, body := a.get(t, "GET", "/-/vigil/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	if code, body := a.call(t, "GET", "/metrics", adminToken, ""); code != 200 || !strings.Contains(string(body), "vigil_proxy_requests_total") {
		t.Errorf("admin metrics: %d %.200s", code, body)
	}
	if code, _ := a.call(t, "GET", "/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("admin metrics without token: %d", code)
	}
}
