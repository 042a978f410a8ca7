package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
)

// errorBody decodes a {"error": …} answer.
func errorBody(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error body: %q (%v)", body, err)
	}
	return e.Error
}

func TestTarballServedVerified(t *testing.T) {
	st := startStack(t, stackOptions{})
	resp, body := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz",
		"User-Agent", "npm/11.6.0 node/v22.19.0 linux x64 workspaces/false",
		"npm-command", "install", "npm-session", "0123abcd", "npm-scope", "@acme")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	want := st.upstream.tarballs["/debug/-/debug-4.4.1.tgz"]
	if !bytes.Equal(body, want) {
		t.Fatal("served bytes differ from the upstream's")
	}
	if resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("headers %v", resp.Header)
	}
	// Second request: from the cache, the upstream not asked again.
	_, again := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz")
	if !bytes.Equal(again, want) || st.upstream.hitCount("/debug/-/debug-4.4.1.tgz") != 1 {
		t.Errorf("cached tarball: equal %v, upstream hits %d", bytes.Equal(again, want), st.upstream.hitCount("/debug/-/debug-4.4.1.tgz"))
	}
	// HEAD and Range are answered from the cached file.
	head, hb := st.get(t, "HEAD", "/debug/-/debug-4.4.1.tgz")
	if head.StatusCode != 200 || len(hb) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("HEAD: %d, %d bytes, length %s", head.StatusCode, len(hb), head.Header.Get("Content-Length"))
	}
	part, pb := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz", "Range", "bytes=0-9")
	if part.StatusCode != http.StatusPartialContent || !bytes.Equal(pb, want[:10]) {
		t.Errorf("Range: %d", part.StatusCode)
	}
	cond, _ := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz", "If-None-Match", resp.Header.Get("ETag"))
	if cond.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match on a tarball: %d", cond.StatusCode)
	}

	recs := st.records.all()
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	r := recs[0]
	if r.Name != "debug" || r.Version != "4.4.1" || r.Status != 200 || r.Action != policy.Allow ||
		r.Integrity != sri(want) || r.Client != "127.0.0.1" || !strings.HasPrefix(r.UserAgent, "npm/11.6.0") ||
		r.NpmCommand != "install" || r.NpmSession != "0123abcd" || r.NpmScope != "@acme" || !r.Time.Equal(testNow) {
		t.Errorf("record %+v", r)
	}
}

func TestBlockedTarball(t *testing.T) {
	st := startStack(t, stackOptions{cooldown: cooldown3d})
	for _, tc := range []struct {
		path, want string
		rule       policy.Rule
	}{
		{"/debug/-/debug-4.4.2.tgz", "vigil blocked debug@4.4.2: MAL-2025-46974 Malicious code in debug (npm)", policy.RuleAdvisory},
		{"/debug/-/debug-4.4.3.tgz", "vigil blocked debug@4.4.3: published 2025-09-13T15:00:23Z, younger than the cooldown (until 2025-09-16T15:00:23Z)", policy.RuleReleaseAge},
	} {
		resp, body := st.get(t, "GET", tc.path)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: status %d", tc.path, resp.StatusCode)
		}
		if got := errorBody(t, body); got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.path, got, tc.want)
		}
		if n := st.upstream.hitCount(tc.path); n != 0 {
			t.Errorf("%s: the upstream was asked for a blocked tarball %d times", tc.path, n)
		}
		if got := st.server.metrics.decisions.value("block", string(tc.rule), "tarball"); got != 1 {
			t.Errorf("%s: block/%s counted %v times", tc.path, tc.rule, got)
		}
	}
	recs := st.records.all()
	if len(recs) != 2 || recs[0].Action != policy.Block || recs[0].Status != 403 || recs[0].Integrity != "" ||
		!strings.Contains(recs[0].Reason, "MAL-2025-46974") {
		t.Errorf("records %+v", recs)
	}
}

func TestWarnedTarball(t *testing.T) {
	st := startStack(t, stackOptions{warn: map[string]string{"ms@2.1.3": "suspicious: reads ~/.npmrc"}})
	resp, body := st.get(t, "GET", "/ms/-/ms-2.1.3.tgz")
	if resp.StatusCode != 200 || !bytes.Equal(body, st.upstream.tarballs["/ms/-/ms-2.1.3.tgz"]) {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := "vigil warns about ms@2.1.3: suspicious: reads ~/.npmrc"
	if resp.Header.Get("X-Vigil-Warning") != want || resp.Header.Get("npm-notice") != want {
		t.Errorf("headers %q / %q", resp.Header.Get("X-Vigil-Warning"), resp.Header.Get("npm-notice"))
	}
	if recs := st.records.all(); len(recs) != 1 || recs[0].Action != policy.Warn || recs[0].Status != 200 {
		t.Errorf("records %+v", recs)
	}
}

func TestDryRunServesButSays(t *testing.T) {
	st := startStack(t, stackOptions{dryRun: true})
	resp, body := st.get(t, "GET", "/debug/-/debug-4.4.2.tgz")
	if resp.StatusCode != 200 || !bytes.Equal(body, st.upstream.tarballs["/debug/-/debug-4.4.2.tgz"]) {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if h := resp.Header.Get("X-Vigil-Warning"); !strings.HasPrefix(h, "dry run: would block debug@4.4.2: MAL-2025-46974") {
		t.Errorf("X-Vigil-Warning %q", h)
	}
}

func TestIntegrityMismatchNeverServed(t *testing.T) {
	st := startStack(t, stackOptions{})
	const path = "/debug/-/debug-4.4.1.tgz"
	st.upstream.set(func(f *fakeRegistry) { f.tamper[path] = true })
	for i := range 2 {
		resp, body := st.get(t, "GET", path)
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("try %d: status %d", i, resp.StatusCode)
		}
		if msg := errorBody(t, body); !strings.Contains(msg, "does not match its dist.integrity") {
			t.Errorf("message %q", msg)
		}
	}
	if got := st.server.metrics.integrityFailures.value(); got != 2 {
		t.Errorf("integrity failures %v, want 2 (a failed tarball is never cached)", got)
	}
	if recs := st.records.all(); len(recs) != 2 || recs[0].Status != 502 || recs[0].Integrity != "" {
		t.Errorf("records %+v", recs)
	}
	// The upstream repaired: served.
	st.upstream.set(func(f *fakeRegistry) { f.tamper[path] = false })
	resp, body := st.get(t, "GET", path)
	if resp.StatusCode != 200 || !bytes.Equal(body, st.upstream.tarballs[path]) {
		t.Errorf("after repair: %d", resp.StatusCode)
	}
}

func TestTruncatedTarball(t *testing.T) {
	st := startStack(t, stackOptions{})
	const path = "/ms/-/ms-2.1.3.tgz"
	st.upstream.set(func(f *fakeRegistry) { f.truncate[path] = true })
	resp, body := st.get(t, "GET", path)
	if resp.StatusCode < 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	errorBody(t, body)
}

func TestUnlistedTarball(t *testing.T) {
	st := startStack(t, stackOptions{})
	resp, body := st.get(t, "GET", "/debug/-/debug-0.0.1.tgz")
	if resp.StatusCode != 404 || !strings.Contains(errorBody(t, body), "no listed version") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

func TestCoalescing(t *testing.T) {
	st := startStack(t, stackOptions{})
	gate := make(chan struct{})
	st.upstream.set(func(f *fakeRegistry) { f.gate = gate })
	const n = 8
	bodies := make([][]byte, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, body := st.get(t, "GET", "/ms/-/ms-2.1.3.tgz")
			codes[i], bodies[i] = resp.StatusCode, body
		})
	}
	// Let every request reach the proxy and wait on the one upstream fetch.
	waitFor(t, func() bool { return st.upstream.hitCount("/ms") == 1 })
	time.Sleep(100 * time.Millisecond)
	close(gate)
	wg.Wait()
	for i := range n {
		if codes[i] != 200 || !bytes.Equal(bodies[i], st.upstream.tarballs["/ms/-/ms-2.1.3.tgz"]) {
			t.Fatalf("request %d: %d", i, codes[i])
		}
	}
	if a, b := st.upstream.hitCount("/ms"), st.upstream.hitCount("/ms/-/ms-2.1.3.tgz"); a != 1 || b != 1 {
		t.Errorf("upstream asked %d times for the packument and %d for the tarball; want 1 and 1", a, b)
	}
	if got := st.server.metrics.coalesced.value("packument"); got != n-1 {
		t.Errorf("coalesced packument requests %v, want %d", got, n-1)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
