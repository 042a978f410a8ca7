package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clienttest"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// The end-to-end tests of pnpm, yarn 1, yarn 4 and bun (e2e_pnpm_test.go,
// e2e_yarn_test.go, e2e_bun_test.go) run the same scenarios through the
// proxy and the real policy engine, in front of the fake registry, with
// the real clients that scripts/install-clients.sh installs
// (internal/clienttest: a fresh HOME, caches and config per run, every
// registry setting pointing at the proxy, anything else at a closed port).
// A client that is not installed skips its test, unless
// VIGIL_REQUIRE_CLIENTS is set (CI), which fails it.
//
// Every scenario has a stack of its own, so the scenarios and the clients
// run in parallel. The clients' outputs that the tests expect are quoted in
// docs/proxy.md ("What each client prints").

// clientRunTimeout bounds one client run.
const clientRunTimeout = 2 * time.Minute

// clientE2E is what differs between clients: how they install, and what
// they print when the proxy refuses something.
type clientE2E struct {
	client string // a clienttest name
	// install installs package.json's dependencies and writes the lockfile;
	// frozen installs from the lockfile alone, failing if it is stale.
	install, frozen []string
	lockfile        string // the lockfile install writes
	// prepare readies a new project folder (yarn 4 wants a yarn.lock to
	// know the folder is a project root).
	prepare func(t *testing.T, dir string)
	// env adds variables to the client's environment.
	env map[string]string
	// Substrings the client's output must contain (from real runs).
	pinnedBlocked []string // `install` with debug@4.4.2 pinned in package.json
	lockBlocked   []string // `frozen` with a lockfile that pins debug@4.4.2
	tampered      []string // a tarball the proxy refused for failing its integrity check
	allHeld       []string // a package whose every version is held back (its document is refused)
}

// project makes a project folder with package.json's dependencies.
func (c clientE2E) project(t *testing.T, deps map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeManifest(t, dir, deps)
	if c.prepare != nil {
		c.prepare(t, dir)
	}
	return dir
}

// writeManifest writes package.json with deps.
func writeManifest(t *testing.T, dir string, deps map[string]string) {
	t.Helper()
	pj, err := json.Marshal(map[string]any{"name": "fixture-app", "version": "1.0.0", "private": true, "license": "MIT", "dependencies": deps})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), pj, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs the client with args in dir, in a fresh environment pointed at
// st (so nothing is served from a cache a previous run filled).
func (c clientE2E) run(t *testing.T, st *stack, dir string, args []string) clienttest.Result {
	t.Helper()
	env := clienttest.NewEnv(t, st.publicURL())
	for k, v := range c.env {
		env.Set(k, v)
	}
	return env.Run(t, dir, clientRunTimeout, c.client, args...)
}

// requireOutput fails t unless out contains every want.
func requireOutput(t *testing.T, what, out string, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: the output lacks %q:\n%s", what, w, out)
		}
	}
}

// e2eStack is a stack with the real policy engine (3-day cooldown, the
// embedded advisories: debug 4.4.2 is MAL-2025-46974) and quarantine.
func e2eStack(t *testing.T, quarantine ...policy.QuarantineEntry) *stack {
	t.Helper()
	clock := &testClock{now: testNow}
	return startStack(t, stackOptions{decider: realEngine(t, clock.Now, quarantine...), clock: clock})
}

// runClientE2E runs every scenario of the issue with c.
func runClientE2E(t *testing.T, c clientE2E) {
	if testing.Short() {
		t.Skip("end-to-end client tests skipped with -short")
	}
	clienttest.Require(t, c.client)
	t.Parallel()

	t.Run("a quarantined version is never installed", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t, policy.QuarantineEntry{Package: "debug", Versions: "4.4.1", Reason: "under investigation", AddedAt: testNow})
		dir := c.project(t, map[string]string{"debug": "^4.3.0"})
		res := c.run(t, st, dir, c.install)
		if res.Err != nil {
			t.Fatalf("install: %v", res.Err)
		}
		// 4.4.3 is too young, 4.4.2 malware, 4.4.1 quarantined.
		if v := installedVersion(t, dir, "debug"); v != "4.4.0" {
			t.Errorf("installed debug %q, want 4.4.0", v)
		}
		requireNotServed(t, st, "4.4.1", "4.4.2", "4.4.3")
		requireHeld(t, st, "4.4.1", policy.RuleQuarantine, "under investigation")
	})

	t.Run("a range falls back to the newest allowed version", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t)
		dir := c.project(t, map[string]string{"debug": "^4.3.0"})
		res := c.run(t, st, dir, c.install)
		if res.Err != nil {
			t.Fatalf("install: %v", res.Err)
		}
		if v := installedVersion(t, dir, "debug"); v != "4.4.1" {
			t.Errorf("installed debug %q, want 4.4.1", v)
		}
		// (pnpm does not hoist ms into node_modules: the records say.)
		requireServed(t, st, c, "debug", "4.4.1")
		requireServed(t, st, c, "ms", "2.1.3")
		requireNotServed(t, st, "4.4.2", "4.4.3")
		lock, err := os.ReadFile(filepath.Join(dir, c.lockfile))
		if err != nil || !strings.Contains(string(lock), "4.4.1") || strings.Contains(string(lock), "4.4.2") {
			t.Errorf("%s does not pin debug 4.4.1 (%v):\n%s", c.lockfile, err, lock)
		}
	})

	t.Run("a pinned blocked version fails", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t)
		dir := c.project(t, map[string]string{"debug": "4.4.2"})
		res := c.run(t, st, dir, c.install)
		if res.Err == nil {
			t.Fatal("install of debug@4.4.2 succeeded")
		}
		requireOutput(t, "install debug@4.4.2", res.Output, c.pinnedBlocked)
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
		// The client resolved from metadata without 4.4.2 in it: the
		// proxy says why in its held list (GET /held) and in npm-notice.
		requireNotServed(t, st, "4.4.2")
		requireHeld(t, st, "4.4.2", policy.RuleAdvisory, "MAL-2025-46974")
	})

	t.Run("a version younger than the cooldown is skipped", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t)
		// 4.4.3 (published 21 h before the stack's clock) or 4.4.1.
		dir := c.project(t, map[string]string{"debug": "4.4.1 || 4.4.3"})
		res := c.run(t, st, dir, c.install)
		if res.Err != nil {
			t.Fatalf("install: %v", res.Err)
		}
		if v := installedVersion(t, dir, "debug"); v != "4.4.1" {
			t.Errorf("installed debug %q, want 4.4.1 (4.4.3 is in its cooldown)", v)
		}
		requireNotServed(t, st, "4.4.3")
		d := requireHeld(t, st, "4.4.3", policy.RuleReleaseAge, "")
		if want := time.Date(2025, 9, 16, 15, 0, 23, 671e6, time.UTC); !heldUntil(d).Equal(want) {
			t.Errorf("4.4.3 held until %v, want %v (3 days after its publication)", heldUntil(d), want)
		}
	})

	t.Run("a tampered tarball is refused", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t)
		st.upstream.set(func(f *fakeRegistry) { f.tamper["/debug/-/debug-4.4.1.tgz"] = true })
		dir := c.project(t, map[string]string{"debug": "^4.3.0"})
		res := c.run(t, st, dir, c.install)
		if res.Err == nil {
			t.Fatal("install succeeded with a tampered tarball")
		}
		requireOutput(t, "install with a tampered debug 4.4.1", res.Output, c.tampered)
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
		var refused bool
		for _, r := range st.records.all() {
			if r.Name == "debug" && r.Version == "4.4.1" {
				if r.Status == 200 || r.Integrity != "" {
					t.Errorf("the tampered tarball was served: %+v", r)
				}
				refused = refused || r.Status == 502 && strings.Contains(r.Reason, "dist.integrity")
			}
		}
		if !refused {
			t.Errorf("no record of the refusal: %+v", st.records.all())
		}
	})

	t.Run("a package whose every version is held back fails with the reason", func(t *testing.T) {
		t.Parallel()
		st := e2eStack(t, policy.QuarantineEntry{Package: "debug", Reason: "maintainer account compromised", AddedAt: testNow})
		dir := c.project(t, map[string]string{"debug": "^4.3.0"})
		res := c.run(t, st, dir, c.install)
		if res.Err == nil {
			t.Fatal("install succeeded")
		}
		requireOutput(t, "install of a package held back entirely", res.Output, c.allHeld)
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
		requireNotServed(t, st, "4.3.7", "4.4.0", "4.4.1", "4.4.2", "4.4.3")
	})

	t.Run("a lockfile pinning a blocked version fails with the vigil message", func(t *testing.T) {
		t.Parallel()
		// The client writes its own lockfile through the proxy while the
		// policy still allows 4.4.2 (nothing is rewritten by hand) ...
		clock := &testClock{now: testNow}
		st := startStack(t, stackOptions{decider: &testDecider{now: clock.Now}, clock: clock})
		gen := c.project(t, map[string]string{"debug": "4.4.2"})
		if res := c.run(t, st, gen, c.install); res.Err != nil {
			t.Fatalf("writing the lockfile: %v", res.Err)
		}
		lock, err := os.ReadFile(filepath.Join(gen, c.lockfile))
		if err != nil {
			t.Fatal(err)
		}
		// ... then the advisory applies, and a lockfile install in a new
		// folder with fresh caches must fetch the tarball, and is refused.
		st.server.SetDecider(realEngine(t, clock.Now))
		dir := c.project(t, map[string]string{"debug": "4.4.2"})
		if err := os.WriteFile(filepath.Join(dir, c.lockfile), lock, 0o644); err != nil {
			t.Fatal(err)
		}
		res := c.run(t, st, dir, c.frozen)
		if res.Err == nil {
			t.Fatalf("the lockfile install of debug@4.4.2 succeeded")
		}
		requireOutput(t, "lockfile install of debug@4.4.2", res.Output, c.lockBlocked)
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
		var blocked bool
		for _, r := range st.records.all() {
			if r.Version == "4.4.2" && r.Action == policy.Block {
				blocked = blocked || r.Status == 403 && strings.Contains(r.Reason, "MAL-2025-46974")
			}
		}
		if !blocked {
			t.Errorf("no 403 record of the blocked tarball with its reason: %+v", st.records.all())
		}
	})
}

// requireServed fails t unless the proxy served name@version's tarball to
// the client under test (its User-Agent names it).
func requireServed(t *testing.T, st *stack, c clientE2E, name, version string) {
	t.Helper()
	// yarn 4 sends got's User-Agent (its HTTP library's).
	agent := map[string]string{clienttest.PNPM: "pnpm/", clienttest.Yarn1: "yarn/1.", clienttest.Yarn4: "got (", clienttest.Bun: "Bun/"}[c.client]
	recs := st.records.all()
	if !slices.ContainsFunc(recs, func(r store.Download) bool {
		return r.Name == name && r.Version == version && r.Status == 200 && r.Integrity != "" && strings.HasPrefix(r.UserAgent, agent)
	}) {
		t.Errorf("no record of %s@%s served to %s: %+v", name, version, agent, recs)
	}
}

// requireNotServed fails t if any of debug's versions was served.
func requireNotServed(t *testing.T, st *stack, versions ...string) {
	t.Helper()
	for _, r := range st.records.all() {
		if r.Name == "debug" && slices.Contains(versions, r.Version) && (r.Status == 200 || r.Status == 206 || r.Status == 304) {
			t.Errorf("served a held-back version: %+v", r)
		}
	}
}

// requireHeld fails t unless the proxy's held list (GET /held) holds
// debug@version back by rule, with a message containing msg.
func requireHeld(t *testing.T, st *stack, version string, rule policy.Rule, msg string) policy.Decision {
	t.Helper()
	for _, p := range st.server.held.list(st.clock.Now()) {
		if p.Name != "debug" {
			continue
		}
		for _, d := range p.Versions {
			if d.Version != version {
				continue
			}
			for _, r := range d.Reasons {
				if r.Rule == rule && (strings.Contains(r.Message, msg) || strings.Contains(r.ID, msg)) {
					return d
				}
			}
			t.Errorf("debug@%s is held back for %+v, want rule %s with %q", version, d.Reasons, rule, msg)
			return d
		}
	}
	t.Errorf("debug@%s is not in the held list: %+v", version, st.server.held.list(st.clock.Now()))
	return policy.Decision{}
}

// heldUntil is when a time-bound decision ends.
func heldUntil(d policy.Decision) time.Time {
	for _, r := range d.Reasons {
		if !r.Until.IsZero() {
			return r.Until
		}
	}
	return time.Time{}
}

// TestRefusalForms checks the three forms of a refusal (refuse) by the
// User-Agent each client sends, without the clients: the status line, the
// body, the redirect bun follows, and the download records.
func TestRefusalForms(t *testing.T) {
	const (
		path = "/debug/-/debug-4.4.2.tgz"
		msg  = "vigil blocked debug@4.4.2: MAL-2025-46974 Malicious code in debug (npm)"
	)
	for _, tc := range []struct {
		agent, method string
		status        string // the status line's code and phrase
		location      string // for the redirect
		body          bool
	}{
		{agent: "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false", method: "GET", status: "403 Forbidden", body: true},
		{agent: "Go-http-client/1.1", method: "GET", status: "403 Forbidden", body: true},
		{agent: "pnpm/10.34.9 npm/? node/v20.20.2 linux x64", method: "GET", status: "403 " + msg, body: true},
		{agent: "pnpm/10.34.9 npm/? node/v20.20.2 linux x64", method: "HEAD", status: "403 " + msg},
		{agent: "yarn/1.22.22 npm/? node/v20.20.2 linux x64", method: "GET", status: "403 Forbidden", body: true},
		{agent: "got (https://github.com/sindresorhus/got)", method: "GET", status: "403 " + msg, body: true},
		{agent: "Bun/1.4.5", method: "GET", status: "307 Temporary Redirect", body: true,
			location: path + "?reason=vigil+blocked+debug@4.4.2:+MAL-2025-46974+Malicious+code+in+debug+(npm)"},
	} {
		t.Run(tc.agent+" "+tc.method, func(t *testing.T) {
			st := startStack(t, stackOptions{})
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func(target string) (*http.Response, []byte) {
				req, err := http.NewRequest(tc.method, st.proxy.URL+target, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("User-Agent", tc.agent)
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, body
			}
			resp, body := get(path)
			if resp.Status != tc.status {
				t.Errorf("status line %q, want %q", resp.Status, tc.status)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if tc.body {
				if got := errorBody(t, body); got != msg {
					t.Errorf("body error %q, want %q", got, msg)
				}
			} else if len(body) != 0 || resp.ContentLength <= 0 {
				t.Errorf("HEAD: body %q, Content-Length %d", body, resp.ContentLength)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			wantStatuses := []int{resp.StatusCode}
			if tc.location != "" {
				// The redirected request is refused with the body only.
				again, body := get(tc.location)
				if again.Status != "403 Forbidden" || errorBody(t, body) != msg || again.Header.Get("Location") != "" {
					t.Errorf("after the redirect: %q %q %q", again.Status, body, again.Header.Get("Location"))
				}
				wantStatuses = append(wantStatuses, again.StatusCode)
			}
			var got []int
			for _, r := range st.records.all() {
				if r.Action != policy.Block || !strings.Contains(r.Reason, "MAL-2025-46974") || r.UserAgent != tc.agent {
					t.Errorf("record %+v", r)
				}
				got = append(got, r.Status)
			}
			if !slices.Equal(got, wantStatuses) {
				t.Errorf("recorded statuses %v, want %v", got, wantStatuses)
			}
		})
	}
}

// TestReadableQueryEscape: the message bun is redirected with reads as
// text and decodes back to itself.
func TestReadableQueryEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"vigil blocked debug@4.4.2: MAL-2025-46974 Malicious code in debug (npm)", "vigil+blocked+debug@4.4.2:+MAL-2025-46974+Malicious+code+in+debug+(npm)"},
		{"a+b&c=d#e%f'g", "a%2Bb%26c=d%23e%25f%27g"},
		{"published 20h59m ago; allowed from 2025-09-16T15:00:23Z", "published+20h59m+ago%3B+allowed+from+2025-09-16T15:00:23Z"},
		{"é\n", "%C3%A9%0A"},
	} {
		got := readableQueryEscape(tc.in)
		if got != tc.want {
			t.Errorf("readableQueryEscape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		q, err := url.ParseQuery(reasonParam + "=" + got)
		if err != nil || q.Get(reasonParam) != tc.in {
			t.Errorf("%q decodes to %q (%v)", got, q.Get(reasonParam), err)
		}
	}
}
