package scan

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
)

func TestLowestFixAbove(t *testing.T) {
	tests := []struct {
		current string
		fixed   []string
		want    string
	}{
		{"4.17.20", []string{"4.17.21"}, "4.17.21"},
		{"1.2.3", []string{"2.0.0", "1.2.5", "1.2.4"}, "1.2.4"},
		{"3.0.0", []string{"1.0.1", "2.0.1"}, ""}, // every fix is below: another range
		{"1.0.0-beta.1", []string{"1.0.0-beta.2"}, "1.0.0-beta.2"},
		{"abcdef", []string{"1.0.0"}, ""},
		{"1.0.0", nil, ""},
	}
	for _, tt := range tests {
		if got := lowestFixAbove(tt.current, tt.fixed); got != tt.want {
			t.Errorf("lowestFixAbove(%q, %v) = %q, want %q", tt.current, tt.fixed, got, tt.want)
		}
	}
}

func TestFails(t *testing.T) {
	tests := []struct {
		f         Finding
		threshold string
		want      bool
	}{
		{Finding{Kind: KindMalware, Severity: SeverityCritical}, "critical", true},
		{Finding{Kind: KindMalware, Severity: SeverityCritical}, "malware", true},
		{Finding{Kind: KindMalware, Severity: SeverityCritical}, "none", false},
		{Finding{Kind: KindMalware, Severity: SeverityCritical, Ignored: "reviewed"}, "low", false},
		{Finding{Kind: KindVulnerability, Severity: SeverityHigh}, "high", true},
		{Finding{Kind: KindVulnerability, Severity: SeverityHigh}, "critical", false},
		{Finding{Kind: KindVulnerability, Severity: SeverityHigh}, "malware", false},
		{Finding{Kind: KindVulnerability, Severity: SeverityUnknown}, "medium", true},
		{Finding{Kind: KindVulnerability, Severity: SeverityUnknown}, "high", false},
		{Finding{Kind: KindHygiene, Severity: SeverityLow}, "low", true},
		{Finding{Kind: KindHygiene, Severity: SeverityLow}, "medium", false},
	}
	for _, tt := range tests {
		if got := tt.f.Fails(tt.threshold); got != tt.want {
			t.Errorf("%s/%s Fails(%q) = %v, want %v", tt.f.Kind, tt.f.Severity, tt.threshold, got, tt.want)
		}
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "web", "package.json"), `{"name":"web","workspaces":["packages/*"]}`)
	writeFile(t, filepath.Join(root, "mono", "pnpm-workspace.yaml"), "packages:\n  - 'apps/*'\n")
	for _, p := range []string{
		"package-lock.json",
		"web/yarn.lock",
		"web/node_modules/dep/package-lock.json", // inside node_modules: skipped
		".git/pnpm-lock.yaml",                    // inside .git: skipped
		"api/pnpm-lock.yaml",
		"legacy/bun.lockb", // found, so the scan can say how to convert it
		"docs/bom.cdx.json",
		"docs/notes.json", // not a lockfile name
		"tool/node_modules/x/package.json",
		"web/packages/ui/package.json",
		"mono/pnpm-lock.yaml",
		"mono/package.json",
		"mono/apps/x/package.json",
		"mono/apps/x/node_modules/z/package.json",     // a pnpm workspace of mono/
		"web/packages/ui/node_modules/y/package.json", // a workspace of web/, which has a lockfile
	} {
		writeFile(t, filepath.Join(root, p), "{}")
	}
	got, err := discover(context.Background(), []string{root}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, tg := range got {
		r, _ := filepath.Rel(root, tg.path)
		if tg.nodeModules {
			r += " (tree)"
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{"api/pnpm-lock.yaml", "docs/bom.cdx.json", "legacy/bun.lockb", "mono/pnpm-lock.yaml", "package-lock.json", "web/yarn.lock"}
	if !slices.Equal(rel, want) {
		t.Errorf("discover = %v, want %v", rel, want)
	}

	got, err = discover(context.Background(), []string{root}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	trees := 0
	for _, tg := range got {
		if tg.nodeModules {
			trees++
			if filepath.Base(filepath.Dir(tg.path)) != "tool" {
				t.Errorf("node_modules read beside a lockfile: %s", tg.path)
			}
		}
	}
	if trees != 1 {
		t.Errorf("--include-node-modules found %d trees, want 1 (tool/, which has no lockfile)", trees)
	}
	if _, err := discover(context.Background(), []string{filepath.Join(root, "missing")}, nil, false); err == nil {
		t.Error("a missing path is not an error")
	}
}

func TestRunIgnoresAndUnused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "package-lock.json"), `{"name":"app","lockfileVersion":3,"packages":{
  "":{"name":"app","dependencies":{"left-pad":"1.0.0"}},
  "node_modules/left-pad":{"version":"1.0.0","resolved":"http://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz"}}}`)
	cfg, err := config.Parse([]byte(`
ignore:
  - id: VGL-H002
    reason: internal mirror, TLS terminated upstream
  - id: VGL-H003
    reason: expired acceptance
    until: 2020-01-01
  - id: VGL-H999
    reason: stale
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Paths: []string{dir}, Config: cfg, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Finding{}
	for _, f := range res.Files[0].Findings {
		byID[f.ID] = f
	}
	if byID["VGL-H002"].Ignored == "" {
		t.Error("VGL-H002 (http) not ignored")
	}
	if f, ok := byID["VGL-H003"]; !ok || f.Ignored != "" {
		t.Errorf("VGL-H003 (missing integrity) must be reported, its ignore expired: %+v", f)
	}
	if len(res.UnusedIgnores) != 2 {
		t.Errorf("UnusedIgnores = %v, want the expired one and the stale one", res.UnusedIgnores)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNpmV1RootManifest: a version 1 lockfile alone cannot say debug is a
// direct dependency (express also requires it); the package.json beside it
// can, and the finding's shortest path shows it.
func TestNpmV1RootManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "package.json"), `{"name":"app","dependencies":{"debug":"2.6.9","express":"4.21.2"}}`)
	writeFile(t, filepath.Join(dir, "package-lock.json"), `{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{
  "debug":{"version":"2.6.9","resolved":"https://registry.npmjs.org/debug/-/debug-2.6.9.tgz","integrity":"sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA=="},
  "express":{"version":"4.21.2","resolved":"https://registry.npmjs.org/express/-/express-4.21.2.tgz","integrity":"sha512-28HqgMZAmih1Czt9ny7qr6ek2qddF4FclbMzwhCREB6OFfH+rXAnuNCwo1/wFvrtbgsQDb4kSbX9de9lFbrXnA==","requires":{"debug":"2.6.9"}}}}`)
	cfg, err := config.Parse([]byte("blocklist:\n  - package: debug\n    reason: test\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Paths: []string{dir}, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Files[0].Findings[0]
	if len(f.Paths) == 0 || len(f.Paths[0]) != 2 || f.Paths[0][0] != "app" {
		t.Errorf("shortest path = %v, want [app debug@2.6.9]", f.Paths)
	}
}
