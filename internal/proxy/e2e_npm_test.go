package proxy

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/clienttest"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/policy"
)

// npmClient runs the real npm against a stack, in a scratch HOME with its
// own cache and empty user and global configs, so nothing on the machine
// is read or changed. Other clients' end-to-end tests can follow the same
// shape (pnpm, yarn, bun: see startStack).
type npmClient struct {
	t    *testing.T
	npm  string
	home string
	st   *stack
}

func newNPM(t *testing.T, st *stack) *npmClient {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end npm test skipped with -short")
	}
	// Skips without npm, or fails when VIGIL_REQUIRE_CLIENTS is set (CI).
	bin := clienttest.Require(t, clienttest.NPM)
	home := t.TempDir()
	for _, f := range []string{"npmrc", "globalnpmrc"} {
		if err := os.WriteFile(filepath.Join(home, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &npmClient{t: t, npm: bin, home: home, st: st}
}

// project makes a project folder with package.json dependencies (and a
// package-lock.json when lock is not empty).
func (c *npmClient) project(deps map[string]string, lock string) string {
	c.t.Helper()
	dir, err := os.MkdirTemp(c.home, "project-")
	if err != nil {
		c.t.Fatal(err)
	}
	pj, _ := json.Marshal(map[string]any{"name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": deps})
	if err := os.WriteFile(filepath.Join(dir, "package.json"), pj, 0o644); err != nil {
		c.t.Fatal(err)
	}
	if lock != "" {
		if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(lock), 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	return dir
}

// run runs npm in dir and returns its combined output and error.
func (c *npmClient) run(dir string, args ...string) (string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.npm, append(args, "--registry", c.st.publicURL())...)
	cmd.Dir = dir
	env := []string{
		"HOME=" + c.home,
		"PATH=" + os.Getenv("PATH"),
		"npm_config_cache=" + filepath.Join(c.home, "cache"),
		"npm_config_userconfig=" + filepath.Join(c.home, "npmrc"),
		"npm_config_globalconfig=" + filepath.Join(c.home, "globalnpmrc"),
		"npm_config_update_notifier=false",
		"npm_config_audit=false",
		"npm_config_fund=false",
		"npm_config_ignore_scripts=true",
		"npm_config_fetch_retries=0",
		"npm_config_loglevel=notice",
		"NO_PROXY=127.0.0.1,localhost",
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if testing.Verbose() {
		c.t.Logf("npm %s:\n%s", strings.Join(args, " "), out)
	}
	return string(out), err
}

func installedVersion(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
	if err != nil {
		return ""
	}
	var pj struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatal(err)
	}
	return pj.Version
}

// realEngine is internal/policy's engine with a 3-day cooldown, the
// embedded advisory snapshot and quarantine, on the stack's clock.
func realEngine(t *testing.T, now func() time.Time, quarantine ...policy.QuarantineEntry) Decider {
	t.Helper()
	db, err := advisory.OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	var cfg config.Policy
	cfg.MinReleaseAge.Duration = config.Duration(cooldown3d)
	e, err := policy.New(cfg, policy.Inputs{Advisories: advisory.NewMulti(db), Quarantine: quarantine, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return EngineDecider{Engine: e}
}

// TestNPMEndToEnd runs the real npm through the proxy and the real policy
// engine (internal/policy) in front of the fake registry.
func TestNPMEndToEnd(t *testing.T) {
	clock := &testClock{now: testNow}
	st := startStack(t, stackOptions{decider: realEngine(t, clock.Now), clock: clock})
	npm := newNPM(t, st)

	t.Run("a range resolves to the newest allowed version", func(t *testing.T) {
		dir := npm.project(map[string]string{"debug": "^4.3.0"}, "")
		out, err := npm.run(dir, "install")
		if err != nil {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		// 4.4.3 is too young, 4.4.2 is malware: 4.4.1.
		if v := installedVersion(t, dir, "debug"); v != "4.4.1" {
			t.Errorf("installed debug %q, want 4.4.1\n%s", v, out)
		}
		if v := installedVersion(t, dir, "ms"); v != "2.1.3" {
			t.Errorf("installed ms %q", v)
		}
		if !strings.Contains(out, "vigil held back 2 version(s) of debug") {
			t.Errorf("npm did not print the held-back notice:\n%s", out)
		}
		lock, _ := os.ReadFile(filepath.Join(dir, "package-lock.json"))
		if !strings.Contains(string(lock), st.publicURL()+"debug/-/debug-4.4.1.tgz") {
			t.Errorf("lockfile does not resolve through the proxy:\n%s", lock)
		}
	})

	t.Run("a pinned blocked version fails with the vigil message", func(t *testing.T) {
		dir := npm.project(map[string]string{"debug": "4.4.2"}, "")
		out, err := npm.run(dir, "install")
		if err == nil {
			t.Fatalf("npm install of debug@4.4.2 succeeded:\n%s", out)
		}
		if !strings.Contains(out, "npm notice vigil held back") || !strings.Contains(out, "4.4.2 (MAL-2025-46974") || !strings.Contains(out, "notarget") {
			t.Errorf("output lacks the vigil reason:\n%s", out)
		}
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
	})

	t.Run("a too-young pinned version is skipped", func(t *testing.T) {
		dir := npm.project(map[string]string{"debug": "4.4.3"}, "")
		out, err := npm.run(dir, "install")
		if err == nil || !strings.Contains(out, "4.4.3 (published") || !strings.Contains(out, "cooldown") {
			t.Errorf("npm install debug@4.4.3: err %v\n%s", err, out)
		}
	})

	t.Run("a lockfile pinning a blocked version fails on the tarball", func(t *testing.T) {
		integrity := sri(st.upstream.tarballs["/debug/-/debug-4.4.2.tgz"])
		msIntegrity := sri(st.upstream.tarballs["/ms/-/ms-2.1.3.tgz"])
		lock := `{"name":"fixture-app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{` +
			`"":{"name":"fixture-app","version":"1.0.0","dependencies":{"debug":"4.4.2"}},` +
			`"node_modules/debug":{"version":"4.4.2","resolved":"https://registry.npmjs.org/debug/-/debug-4.4.2.tgz","integrity":"` + integrity + `","license":"MIT","dependencies":{"ms":"^2.1.3"}},` +
			`"node_modules/ms":{"version":"2.1.3","resolved":"https://registry.npmjs.org/ms/-/ms-2.1.3.tgz","integrity":"` + msIntegrity + `","license":"MIT"}}}`
		dir := npm.project(map[string]string{"debug": "4.4.2"}, lock)
		out, err := npm.run(dir, "ci")
		if err == nil {
			t.Fatalf("npm ci succeeded:\n%s", out)
		}
		if !strings.Contains(out, "403 Forbidden") || !strings.Contains(out, "vigil blocked debug@4.4.2: MAL-2025-46974") {
			t.Errorf("npm ci output lacks the 403 message:\n%s", out)
		}
		if v := installedVersion(t, dir, "debug"); v != "" {
			t.Errorf("debug %s installed", v)
		}
	})

	t.Run("a quarantined version is never installed", func(t *testing.T) {
		st.server.SetDecider(realEngine(t, clock.Now, policy.QuarantineEntry{Package: "debug", Versions: "4.4.1", Reason: "under investigation", AddedAt: testNow}))
		dir := npm.project(map[string]string{"debug": "^4.3.0"}, "")
		out, err := npm.run(dir, "install", "--prefer-online")
		if err != nil {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
		if v := installedVersion(t, dir, "debug"); v != "4.4.0" {
			t.Errorf("installed debug %q, want 4.4.0 (4.4.1 quarantined)\n%s", v, out)
		}
	})

	// Every tarball npm fetched was recorded, with npm's headers.
	var sawNPM bool
	for _, r := range st.records.all() {
		// npm 11 sends npm-command (npm-session went away in npm 7).
		if r.NpmCommand != "" && strings.HasPrefix(r.UserAgent, "npm/") {
			sawNPM = true
		}
		if r.Status == 200 && (r.Version == "4.4.2" || r.Version == "4.4.3") {
			t.Errorf("served a held-back version: %+v", r)
		}
	}
	if !sawNPM {
		t.Errorf("no record carries npm's headers: %+v", st.records.all())
	}
}
