package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-sec/vigil/internal/registry"
)

func compileSchemaFile(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(abs)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, what, out string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, out)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s: does not match the schema: %v\n%s", what, err, out)
	}
}

// Real runs — a project from the registry, its cached re-run, an offline
// run with unreadable packages, direct targets and errors — produce JSON
// that matches docs/vigil-analyze.schema.json and SARIF that matches the
// SARIF 2.1.0 schema.
func TestAnalyzeOutputsMatchSchemas(t *testing.T) {
	projectEnv(t)
	jsonSchema := compileSchemaFile(t, "../../docs/vigil-analyze.schema.json")
	sarifSchema := compileSchemaFile(t, "../report/testdata/sarif-schema-2.1.0.json")
	fake, url := newFakeNPM(t)
	ds := testDeps(t)
	serve(fake, ds)
	root := t.TempDir()
	lock := writeLockfile(t, root, url, ds)
	tree := filepath.Join(t.TempDir(), "tree")
	installTree(t, tree, ds)

	runs := map[string][]string{
		"lockfile":         {lock},
		"lockfile, cached": {lock},
		"offline":          {lock, "--offline", "--no-cache"},
		"node_modules":     {tree},
		"direct targets":   {writeTgz(t, benignFiles), writeTgz(t, maliciousFiles), bombTgz(t)},
		"bad lockfile":     {func() string { p := filepath.Join(t.TempDir(), "yarn.lock"); writeFile(t, p, "\x00\x01"); return p }()},
	}
	for name, args := range runs {
		_, out, _ := run(t, append([]string{"analyze", "--format", "json"}, args...)...)
		validate(t, jsonSchema, name+" (json)", out)
		_, out, _ = run(t, append([]string{"analyze", "--format", "sarif"}, args...)...)
		validate(t, sarifSchema, name+" (sarif)", out)
	}

	// The SARIF of the project names the malicious package's file inside
	// the package, and carries the verdict.
	_, out, _ := run(t, "analyze", "--format", "sarif", lock)
	for _, want := range []string{`"uri": "evil-hook@1.0.0/package.json"`, `"uriBaseId": "PACKAGES"`, `"verdict": "malicious"`, `"ruleId": "VGL-A002"`, `"name": "install-script-download"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}
	var log struct {
		Runs []json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 {
		t.Errorf("want exactly one run: %v", err)
	}
}

func TestAnalyzeProgressOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, 3)
	p.done()
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("hidden progress wrote %q", buf.String())
	}
	p = newProgress(&buf, true, 3)
	for range 3 {
		p.done()
	}
	p.finish()
	if !strings.Contains(buf.String(), "analysing") {
		t.Errorf("visible progress wrote %q", buf.String())
	}

	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if stderrIsTerminal(f) || stderrIsTerminal(&buf) {
		t.Error("a file or a buffer taken for a terminal")
	}
	if devnull, err := os.Open(os.DevNull); err == nil {
		if stderrIsTerminal(devnull) {
			t.Error("/dev/null (a character device) taken for a terminal")
		}
		devnull.Close()
	}

	// A whole run with stderr a file: no bar, whatever the format.
	projectEnv(t)
	root := t.TempDir()
	installTree(t, root, testDeps(t))
	var out bytes.Buffer
	code := Run(context.Background(), []string{"analyze", root, "--format", "json"}, strings.NewReader(""), &out, f)
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	written, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(written), "analysing") || strings.Contains(out.String(), "analysing") {
		t.Errorf("a progress bar was written without a terminal: stderr %q", written)
	}
}

// Ctrl-C stops the pool promptly: downloads in flight are abandoned and no
// new package starts.
func TestAnalyzeCancel(t *testing.T) {
	projectEnv(t)
	started := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done() // a registry that never answers
	}))
	defer srv.Close()
	ds := testDeps(t)
	lock := writeLockfile(t, t.TempDir(), srv.URL+"/", ds)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"analyze", lock, "--jobs", "2"}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no download started")
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitUnexpected || !strings.Contains(stderr.String(), "context canceled") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run did not stop within 5 s of the cancel")
	}
	if n := len(started); n > 1 {
		t.Errorf("%d more downloads started after the cancel", n)
	}
}

func TestRegistryManifestIsPassedOn(t *testing.T) {
	raw := []byte(`{"name":"tiny-pad","version":"1.0.0","scripts":{}}`)
	if got := registryManifest(&registry.Release{Manifest: &registry.Manifest{Raw: raw}}); !bytes.Equal(got, raw) {
		t.Errorf("listed version: %q", got)
	}
	if got := registryManifest(&registry.Release{Unlisted: true}); got != nil {
		t.Errorf("unlisted version: %q", got)
	}
	if registryManifest(nil) != nil {
		t.Error("nil release")
	}
}
