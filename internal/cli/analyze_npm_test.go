package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clienttest"
)

// publishForNPM writes real-format packuments for the test packages, with
// tarball URLs on the fake registry, as the npm client needs them.
func publishForNPM(t *testing.T, fake *fakeNPM, base string, ds []*dep) {
	t.Helper()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, d := range ds {
		var manifest map[string]any
		if err := json.Unmarshal([]byte(d.files["package.json"]), &manifest); err != nil {
			t.Fatal(err)
		}
		manifest["_id"] = d.name + "@" + d.version
		manifest["dist"] = map[string]any{"integrity": sri(d.tgz), "tarball": strings.TrimSuffix(base, "/") + d.path(), "fileCount": len(d.files)}
		doc, err := json.Marshal(map[string]any{
			"_id": d.name, "name": d.name, "dist-tags": map[string]string{"latest": d.version},
			"versions": map[string]any{d.version: manifest},
			"time":     map[string]string{"created": "2026-01-01T00:00:00.000Z", d.version: "2026-01-01T00:00:00.000Z"},
		})
		if err != nil {
			t.Fatal(err)
		}
		fake.docs[d.name] = doc
		fake.tarballs[d.path()] = d.tgz
	}
}

// TestAnalyzeWhatRealNPMInstalled has the real npm client install a small
// project from a fake registry (scripts off: nothing of the packages runs),
// then analyses what npm wrote: its node_modules tree, and its
// package-lock.json offline from the npm cache npm filled.
func TestAnalyzeWhatRealNPMInstalled(t *testing.T) {
	clienttest.Require(t, clienttest.NPM)
	fake, url := newFakeNPM(t)
	ds := testDeps(t)
	publishForNPM(t, fake, url, ds)
	env := clienttest.NewEnv(t, url)
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "package.json"), `{"name":"shop","version":"1.0.0","private":true,"dependencies":{"tiny-pad":"1.0.0","helper":"2.1.0","@acme/colors":"0.3.0"}}`)
	if res := env.Run(t, project, 3*time.Minute, clienttest.NPM, "install", "--ignore-scripts", "--no-audit", "--no-fund"); res.Err != nil {
		t.Fatalf("npm install: %v\n%s", res.Err, res.Output)
	}
	lock := filepath.Join(project, "package-lock.json")
	if _, err := os.Stat(filepath.Join(project, "node_modules", "evil-hook", "package.json")); err != nil {
		t.Fatalf("npm did not install evil-hook: %v", err)
	}
	t.Setenv("VIGIL_CACHE_DIR", filepath.Join(t.TempDir(), "verdicts"))
	t.Setenv("npm_config_cache", filepath.Join(env.Cache, "npm"))

	code, out, errs := run(t, "analyze", project, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("node_modules: exit %d; stderr %s\n%s", code, errs, out)
	}
	doc := parseProjectDoc(t, out)
	if doc.Summary.Sources["node_modules"] != 4 || doc.Summary.Malicious != 1 || doc.Summary.Clean != 3 {
		t.Errorf("node_modules: %+v", doc.Summary)
	}
	if evil := doc.Reports[doc.report(t, "evil-hook@1.0.0")]; len(evil.Paths) == 0 || strings.Join(evil.Paths[0], " › ") != "shop › helper@2.1.0 › evil-hook@1.0.0" {
		t.Errorf("evil-hook paths: %v", evil.Paths)
	}

	// Without node_modules and without the network, npm's cache has
	// every tarball the lockfile names.
	if err := os.RemoveAll(filepath.Join(project, "node_modules")); err != nil {
		t.Fatal(err)
	}
	before := fake.tarballRequests()
	code, out, errs = run(t, "analyze", lock, "--offline", "--no-cache", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("lockfile offline: exit %d; stderr %s\n%s", code, errs, out)
	}
	doc = parseProjectDoc(t, out)
	if doc.Projects[0].Format != "package-lock.json v3" || doc.Summary.Sources["npm-cache"] != 4 || doc.Summary.Malicious != 1 || doc.Summary.Errors != 0 {
		t.Errorf("lockfile offline: %+v %+v", doc.Projects, doc.Summary)
	}
	if fake.tarballRequests() != before {
		t.Error("an offline run asked the registry")
	}
}
