package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestScopedNamesBothForms(t *testing.T) {
	st := startStack(t, stackOptions{})
	for _, path := range []string{"/@acme%2finternal", "/@acme%2Finternal", "/@acme/internal"} {
		resp, body := st.get(t, "GET", path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if got := objectKeys(t, rawMember(t, body, "versions")); !slices.Equal(got, []string{"1.0.0"}) {
			t.Errorf("%s: versions %v: not the private registry's document", path, got)
		}
		if got, want := string(rawMember(t, body, "versions", "1.0.0", "dist", "tarball")), `"`+st.publicURL()+`@acme/internal/-/internal-1.0.0.tgz"`; got != want {
			t.Errorf("tarball %s, want %s", got, want)
		}
	}
	resp, body := st.get(t, "GET", "/@acme/internal/-/internal-1.0.0.tgz")
	if resp.StatusCode != 200 || !bytes.Equal(body, st.private.tarballs["/@acme/internal/-/internal-1.0.0.tgz"]) {
		t.Errorf("scoped tarball: %d", resp.StatusCode)
	}
	if n := st.upstream.totalHits(); n != 0 {
		t.Errorf("the public registry was asked %d times about a private scope", n)
	}
}

func TestPrivateScopeNeverFallsThrough(t *testing.T) {
	st := startStack(t, stackOptions{})
	// Missing on the private registry: 404, never looked up publicly.
	resp, body := st.get(t, "GET", "/@acme%2fmissing")
	if resp.StatusCode != 404 || !strings.Contains(errorBody(t, body), "never looked up elsewhere") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	// The private registry failing: fail closed, still not public.
	st.private.set(func(f *fakeRegistry) { f.failStatus = 500 })
	resp, _ = st.get(t, "GET", "/@acme%2finternal")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("private registry down: %d", resp.StatusCode)
	}
	resp, _ = st.get(t, "GET", "/@acme/internal/-/internal-99.0.0.tgz")
	if resp.StatusCode < 500 {
		t.Errorf("impostor tarball: %d", resp.StatusCode)
	}
	if n := st.upstream.totalHits(); n != 0 {
		t.Errorf("the public registry (which has an impostor @acme/internal 99.0.0) was asked %d times", n)
	}
}

func TestClientAuthForwarded(t *testing.T) {
	st := startStack(t, stackOptions{privateAuth: "client-token"})
	resp, _ := st.get(t, "GET", "/@acme%2finternal")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %d, want the upstream's 401", resp.StatusCode)
	}
	resp, body := st.get(t, "GET", "/@acme%2finternal", "Authorization", "Bearer client-token")
	if resp.StatusCode != 200 {
		t.Fatalf("with credentials: %d %s", resp.StatusCode, body)
	}
	resp, _ = st.get(t, "GET", "/@acme/internal/-/internal-1.0.0.tgz", "Authorization", "Bearer client-token")
	if resp.StatusCode != 200 {
		t.Errorf("tarball with credentials: %d", resp.StatusCode)
	}
	if got := st.private.authsSeen("/@acme/internal/-/internal-1.0.0.tgz"); !slices.Equal(got, []string{"Bearer client-token"}) {
		t.Errorf("tarball request carried %q", got)
	}
	// A client without credentials must not get the document cached for
	// one with them.
	resp, _ = st.get(t, "GET", "/@acme%2finternal")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a credential-less client after a credentialed one: %d, want 401", resp.StatusCode)
	}
}

func TestConfiguredTokenReplacesClientAuth(t *testing.T) {
	st := startStack(t, stackOptions{privateAuth: "proxy-token", privateTok: "proxy-token"})
	resp, _ := st.get(t, "GET", "/@acme%2finternal", "Authorization", "Bearer someone-elses")
	if resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if got := st.private.authsSeen("/@acme/internal"); !slices.Equal(got, []string{"Bearer proxy-token"}) {
		t.Errorf("private registry saw %q", got)
	}
	// The public registry never sees the private registry's token.
	st.get(t, "GET", "/ms")
	if got := st.upstream.authsSeen("/ms"); !slices.Equal(got, []string{""}) {
		t.Errorf("public registry saw %q", got)
	}
}

func TestCredentialsNeverSentToAnotherHost(t *testing.T) {
	st := startStack(t, stackOptions{privateAuth: "", privateTok: "proxy-token"})
	// A private package whose tarball lives on another host (the public
	// fake registry stands in for a CDN).
	tgz := buildTarball(t, "@acme/elsewhere", "1.0.0")
	st.upstream.set(func(f *fakeRegistry) { f.tarballs["/cdn/elsewhere-1.0.0.tgz"] = tgz })
	doc := `{"name":"@acme/elsewhere","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"@acme/elsewhere","version":"1.0.0",` +
		`"dist":{"integrity":"` + sri(tgz) + `","tarball":"` + st.upstream.URL() + `cdn/-/elsewhere-1.0.0.tgz"}}},` +
		`"time":{"created":"2025-01-01T00:00:00.000Z","1.0.0":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z"}}`
	st.upstream.set(func(f *fakeRegistry) { f.tarballs["/cdn/-/elsewhere-1.0.0.tgz"] = tgz })
	st.private.set(func(f *fakeRegistry) { f.docs["@acme/elsewhere"] = []byte(doc) })
	resp, body := st.get(t, "GET", "/@acme/elsewhere/-/elsewhere-1.0.0.tgz", "Authorization", "Bearer client")
	if resp.StatusCode != 200 || !bytes.Equal(body, tgz) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := st.upstream.authsSeen("/cdn/-/elsewhere-1.0.0.tgz"); !slices.Equal(got, []string{""}) {
		t.Errorf("the other host received Authorization %q", got)
	}
	if got := st.private.authsSeen("/@acme/elsewhere"); !slices.Equal(got, []string{"Bearer proxy-token"}) {
		t.Errorf("the private registry received %q", got)
	}
}

func TestStaleIfError(t *testing.T) {
	st := startStack(t, stackOptions{ttl: time.Minute})
	_, first := st.get(t, "GET", "/debug")
	st.clock.Advance(time.Hour)
	for _, breakIt := range []func(){
		func() { st.upstream.set(func(f *fakeRegistry) { f.failStatus = 503 }) },
		func() { st.upstream.srv.CloseClientConnections(); st.upstream.srv.Close() },
	} {
		breakIt()
		st.clock.Advance(time.Hour) // past StaleRetry too
		resp, body := st.get(t, "GET", "/debug")
		if resp.StatusCode != 200 || !bytes.Equal(body, first) {
			t.Fatalf("status %d; want the cached copy", resp.StatusCode)
		}
		if resp.Header.Get("X-Vigil-Stale") == "" {
			t.Error("no X-Vigil-Stale header")
		}
	}
	if got := st.server.metrics.staleServed.value(); got != 2 {
		t.Errorf("stale served %v, want 2", got)
	}
	// A tarball of a stale document whose bytes were cached is served too.
	resp, _ := st.get(t, "GET", "/ms")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("uncached with the upstream down: %d, want 503", resp.StatusCode)
	}
}

func TestFailClosed(t *testing.T) {
	st := startStack(t, stackOptions{})
	st.upstream.set(func(f *fakeRegistry) { f.failStatus = 503 })
	resp, body := st.get(t, "GET", "/ms")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(errorBody(t, body), "failing closed") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	resp, body = st.get(t, "GET", "/ms/-/ms-2.1.3.tgz")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(errorBody(t, body), "failing closed") {
		t.Errorf("tarball: %d %s", resp.StatusCode, body)
	}
}

func TestFailOpenPassesUpstreamAnswer(t *testing.T) {
	st := startStack(t, stackOptions{failOpen: true})
	st.upstream.set(func(f *fakeRegistry) { f.failStatus = 429 })
	resp, body := st.get(t, "GET", "/ms")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(string(body), "upstream says 429") {
		t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestSlowUpstreamTimesOut(t *testing.T) {
	st := startStack(t, stackOptions{timeout: 200 * time.Millisecond})
	st.upstream.set(func(f *fakeRegistry) { f.delay = 5 * time.Second })
	start := time.Now()
	resp, body := st.get(t, "GET", "/ms")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if resp.StatusCode != http.StatusGatewayTimeout && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	errorBody(t, body)
}

func TestTruncatedPackument(t *testing.T) {
	st := startStack(t, stackOptions{})
	st.upstream.set(func(f *fakeRegistry) { f.truncate["/ms"] = true })
	resp, body := st.get(t, "GET", "/ms")
	if resp.StatusCode < 500 {
		t.Fatalf("%d", resp.StatusCode)
	}
	errorBody(t, body)
	if got := st.server.metrics.upstreamErrors.value("packument", "truncated"); got != 1 {
		t.Errorf("truncated counted %v times", got)
	}
}

func TestUpstreamValidation(t *testing.T) {
	for _, tc := range []struct {
		ups  []Upstream
		want string
	}{
		{nil, "no default upstream"},
		{[]Upstream{{URL: "https://a/"}, {URL: "https://b/"}}, "two default upstreams"},
		{[]Upstream{{URL: "ftp://a/"}}, "want http(s)"},
		{[]Upstream{{URL: "https://user:pw@a/"}}, "credentials in the URL"},
		{[]Upstream{{URL: "https://a/"}, {URL: "https://b/", Scopes: []string{"acme"}}}, "want @scope"},
		{[]Upstream{{URL: "https://a/"}, {URL: "https://b/", Scopes: []string{"@x"}}, {URL: "https://c/", Scopes: []string{"@X"}}}, "already routed"},
	} {
		_, err := newUpstreams(tc.ups)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.ups, err, tc.want)
		}
	}
}

func TestReadOnlyAndSpecialPaths(t *testing.T) {
	st := startStack(t, stackOptions{})
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"PUT", "/debug", 405, "read-only"},
		{"DELETE", "/debug/-/debug-4.4.1.tgz/-rev/1", 405, "read-only"},
		{"PUT", "/-/user/org.couchdb.user:bob", 405, "read-only"},
		{"POST", "/-/v1/login", 405, "read-only"},
		{"GET", "/-/ping?write=true", 200, "{}"},
		{"GET", "/-/vigil/healthz", 200, `"ok"`},
		{"GET", "/-/nonsense", 404, "not served"},
		{"GET", "/-/v1/search?text=debug", 404, "Not found"}, // forwarded: the fake registry has no search
		{"GET", "/..%2f..%2fetc%2fpasswd", 404, "vigil"},
	} {
		resp, body := st.get(t, tc.method, tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	if n := st.upstream.hitCount("/-/v1/search"); n != 1 {
		t.Errorf("search forwarded %d times", n)
	}
	resp, body := st.get(t, "GET", "/-/vigil/metrics")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `vigil_proxy_requests_total{route="write",status="405"} 2`) {
		t.Errorf("metrics:\n%s", body)
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		t.Error("metrics should be text, not JSON")
	}
}
