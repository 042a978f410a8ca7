package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a hand-made scan result that touches every case a report must
// render: malware with two paths and a last-good version (found in two
// lockfiles), a high vulnerability with a fixed version, a hygiene finding
// on a scoped package, an ignored finding with its reason, a file that
// failed to parse, an empty file, and unused ignores. Times are fixed.
func fixture() *scan.Result {
	started := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	malware := func(file string, line int, paths ...lockfile.Path) scan.Finding {
		return scan.Finding{
			ID:          "MAL-2025-46974",
			Kind:        scan.KindMalware,
			Severity:    scan.SeverityCritical,
			Package:     npm.PackageVersion{Name: "debug", Version: "4.4.2"},
			Summary:     "Malicious code in debug (npm)",
			Details:     "The maintainer account was phished and debug 4.4.2 was published with code that\nhijacks cryptocurrency transactions in browsers.",
			Remediation: "remove debug@4.4.2 now: pin debug back to 4.4.1, the last version before the compromise (malware has no fixed version), reinstall from a clean cache, and rotate any secrets the install could reach",
			SafeVersion: "4.4.1",
			Paths:       paths,
			Location:    lockfile.Location{File: file, Line: line, Column: 5},
			References:  []string{"https://github.com/debug-js/debug/issues/1005"},
			Published:   time.Date(2025, 9, 8, 16, 0, 0, 0, time.UTC),
			Modified:    time.Date(2025, 9, 9, 8, 30, 0, 0, time.UTC),
		}
	}
	return &scan.Result{
		Started:  started,
		Duration: 1234 * time.Millisecond,
		Database: scan.DatabaseInfo{
			Source:   "embedded snapshot",
			Records:  1342,
			Built:    time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			Embedded: true,
		},
		Files: []scan.FileResult{
			{
				Path:         "package-lock.json",
				Format:       lockfile.FormatPackageLockV3,
				Status:       scan.StatusOK,
				PackageCount: 214,
				Findings: []scan.Finding{
					malware("package-lock.json", 1204,
						lockfile.Path{"(root)", "express@4.21.2", "body-parser@1.20.3", "debug@4.4.2"},
						lockfile.Path{"(root)", "debug@4.4.2"}),
					{
						ID:            "GHSA-35jh-r3h4-6jhm",
						Aliases:       []string{"CVE-2021-23337"},
						Kind:          scan.KindVulnerability,
						Severity:      scan.SeverityHigh,
						Package:       npm.PackageVersion{Name: "lodash", Version: "4.17.20"},
						Summary:       "Command Injection in lodash",
						Details:       "`lodash` versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
						Remediation:   "upgrade lodash to 4.17.21 or later",
						SafeVersion:   "4.17.21",
						FixedVersions: []string{"4.17.21"},
						Paths:         []lockfile.Path{{"(root)", "webpack-cli@4.10.0", "lodash@4.17.20"}},
						Location:      lockfile.Location{File: "package-lock.json", Line: 3310, Column: 5},
						References:    []string{"https://nvd.nist.gov/vuln/detail/CVE-2021-23337", "https://github.com/lodash/lodash/commit/3469357cff396a26c363f8c1b5a91dde28ba4b1c"},
						Published:     time.Date(2021, 5, 6, 16, 5, 51, 0, time.UTC),
					},
					{
						ID:       "VGL-H005",
						Kind:     scan.KindHygiene,
						Severity: scan.SeverityMedium,
						Package:  npm.PackageVersion{Name: "@acme/ui", Version: "1.4.0"},
						Summary:  "@acme/ui@1.4.0 is installed from git+ssh://git@github.com/acme/ui.git#v1.4.0",
						Details:  "The package comes from a git repository rather than the registry: no registry integrity, no advisory coverage, and whatever the ref points at is installed (and its prepare script runs).",
						Paths:    []lockfile.Path{{"(root)", "@acme/ui@1.4.0"}},
						Location: lockfile.Location{File: "package-lock.json", Line: 88, Column: 5},
					},
					{
						ID:            "GHSA-xvch-5gv4-984h",
						Aliases:       []string{"CVE-2021-44906"},
						Kind:          scan.KindVulnerability,
						Severity:      scan.SeverityCritical,
						Package:       npm.PackageVersion{Name: "minimist", Version: "1.2.5"},
						Summary:       "Prototype Pollution in minimist",
						Remediation:   "upgrade minimist to 1.2.6 or later",
						SafeVersion:   "1.2.6",
						FixedVersions: []string{"1.2.6", "0.2.4"},
						Paths:         []lockfile.Path{{"(root)", "mocha@9.2.2", "mkdirp@0.5.5", "minimist@1.2.5"}},
						Location:      lockfile.Location{File: "package-lock.json", Line: 2750, Column: 5},
						Dev:           true,
						Ignored:       "only reachable from the test runner; tracked in SEC-142",
					},
				},
			},
			{
				Path:         "apps/api/package-lock.json",
				Format:       lockfile.FormatPackageLockV2,
				Status:       scan.StatusOK,
				PackageCount: 57,
				Workspaces:   []string{"packages/auth"},
				Findings: []scan.Finding{
					malware("apps/api/package-lock.json", 410, lockfile.Path{"(root)", "morgan@1.10.0", "debug@4.4.2"}),
				},
			},
			{
				Path:   "packages/web/pnpm-lock.yaml",
				Format: lockfile.FormatPnpmV9,
				Status: scan.StatusEmpty,
			},
			{
				Path:   "legacy/yarn.lock",
				Status: scan.StatusError,
				Error:  `legacy/yarn.lock:12:3: expected ":" after the descriptor list`,
			},
		},
		UnusedIgnores: []string{"GHSA-c2qf-rxjj-qqgw (semver): matched no finding"},
	}
}

// cleanFixture has packages and nothing wrong with them.
func cleanFixture() *scan.Result {
	return &scan.Result{
		Started:  time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		Duration: 80 * time.Millisecond,
		Database: scan.DatabaseInfo{Source: "embedded snapshot", Records: 1342, Embedded: true},
		Files: []scan.FileResult{
			{Path: "package-lock.json", Format: lockfile.FormatPackageLockV3, Status: scan.StatusOK, PackageCount: 120},
			{Path: "yarn.lock", Format: lockfile.FormatYarnV1, Status: scan.StatusOK, PackageCount: 33},
		},
	}
}

func render(t *testing.T, format string, opts Options, r *scan.Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	h, err := New(format, &buf, opts)
	if err != nil {
		t.Fatalf("New(%q): %v", format, err)
	}
	if err := h.Write(context.Background(), r); err != nil {
		t.Fatalf("%s Write: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	base := Options{Version: "1.2.3"}
	tests := []struct {
		name, format string
		opts         Options
		result       *scan.Result
	}{
		{"table", "table", base, fixture()},
		{"table_color", "table", Options{Version: "1.2.3", Color: true}, fixture()},
		{"table_verbose_narrow", "table", Options{Version: "1.2.3", Verbose: true, Width: 60}, fixture()},
		{"table_maxpaths1", "table", Options{Version: "1.2.3", MaxPaths: 1}, fixture()},
		{"table_clean", "table", base, cleanFixture()},
		{"json", "json", base, fixture()},
		{"json_clean", "json", base, cleanFixture()},
		{"sarif", "sarif", base, fixture()},
		{"markdown", "markdown", base, fixture()},
		{"markdown_clean", "markdown", base, cleanFixture()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.format, tt.opts, tt.result)
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test -update to accept):\n%s", tt.name, path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the first differing lines, enough to see what changed
// without a diff library.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func TestNewUnknownFormat(t *testing.T) {
	for _, f := range []string{"", "xml", "JSON", "cyclonedx"} {
		_, err := New(f, &bytes.Buffer{}, Options{})
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("New(%q) error = %v, want ErrUnknownFormat", f, err)
		}
	}
	for _, f := range Formats() {
		if _, err := New(f, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
}

// Every handler must cope with the zero Result (a scan that found no
// files) and report a cancelled context or a failing writer.
func TestHandlersEdgeCases(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			out := render(t, format, Options{}, &scan.Result{})
			if len(out) == 0 {
				t.Error("no output for an empty result")
			}

			h, _ := New(format, &bytes.Buffer{}, Options{})
			if err := h.Write(context.Background(), nil); err == nil {
				t.Error("nil result: no error")
			}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := h.Write(ctx, fixture()); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled context: error = %v, want context.Canceled", err)
			}

			boom := errors.New("disk full")
			h, _ = New(format, failWriter{boom}, Options{})
			if err := h.Write(context.Background(), fixture()); !errors.Is(err, boom) {
				t.Errorf("failing writer: error = %v, want %v", err, boom)
			}
		})
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		r    *scan.Result
		want string
	}{
		{"clean", cleanFixture(), "No known malware or vulnerabilities in 153 packages across 2 lockfiles."},
		{"fixture", fixture(), "Found 2 malware findings, 1 vulnerability (1 high) and 1 hygiene finding in 271 packages across 3 lockfiles; 1 ignored. 1 lockfile could not be read: results are partial."},
		{"nothing", &scan.Result{}, "No known malware or vulnerabilities in 0 packages across 0 lockfiles."},
		{"hygiene only", &scan.Result{Files: []scan.FileResult{{Path: "a", Status: scan.StatusOK, PackageCount: 1, Findings: []scan.Finding{{ID: "VGL-H003", Kind: scan.KindHygiene}}}}},
			"No known malware or vulnerabilities in 1 package across 1 lockfile; 1 hygiene finding."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summaryLine(countResult(tt.r)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestWrapWords(t *testing.T) {
	got := wrapWords("aaa bbb ccc https://example.com/a/very/long/url/that/does/not/fit ddd", "> ", "  ", 12)
	want := []string{"> aaa bbb", "  ccc", "  https://example.com/a/very/long/url/that/does/not/fit", "  ddd"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, l := range wrapWords(strings.Repeat("word ", 50), "", "    ", 40) {
		if len(l) > 40 {
			t.Errorf("line longer than width: %q", l)
		}
	}
	p := wrapPath([]string{"(root)", "express@4.21.2", "body-parser@1.20.3", "debug@4.4.2"}, "    ", "      ", 40)
	wantP := []string{"    (root) › express@4.21.2", "      › body-parser@1.20.3 › debug@4.4.2"}
	if strings.Join(p, "|") != strings.Join(wantP, "|") {
		t.Errorf("wrapPath = %q, want %q", p, wantP)
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct{ path, base, want string }{
		{"package-lock.json", "", "package-lock.json"},
		{"./web/yarn.lock", "", "web/yarn.lock"},
		{"/repo/web/pnpm-lock.yaml", "/repo", "web/pnpm-lock.yaml"},
		{"/elsewhere/yarn.lock", "/repo", "file:///elsewhere/yarn.lock"},
		{"/repo/my app/package-lock.json", "/repo", "my%20app/package-lock.json"},
		{"a:b/yarn.lock", "", "./a:b/yarn.lock"},
		{"web/bun.lock", "web", "bun.lock"},
	}
	for _, tt := range tests {
		if got := artifactURI(filepath.FromSlash(tt.path), filepath.FromSlash(tt.base)); got != tt.want {
			t.Errorf("artifactURI(%q, %q) = %q, want %q", tt.path, tt.base, got, tt.want)
		}
	}
}

func TestErrorPosition(t *testing.T) {
	tests := []struct {
		path, msg string
		line, col int
	}{
		{"yarn.lock", "yarn.lock:12:3: expected ':'", 12, 3},
		{"yarn.lock", "yarn.lock:7: bad indent", 7, 0},
		{"yarn.lock", "yarn.lock: file is larger than the size limit", 0, 0},
		{"yarn.lock", "open yarn.lock: permission denied", 0, 0},
	}
	for _, tt := range tests {
		if l, c := errorPosition(tt.path, tt.msg); l != tt.line || c != tt.col {
			t.Errorf("errorPosition(%q) = %d,%d, want %d,%d", tt.msg, l, c, tt.line, tt.col)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain@1.0.0", "plain@1.0.0"},
		{"evil\x1b[2J@1.0.0", `evil\x1b[2J@1.0.0`},
		{"two\nlines", "two lines"},
		{"bidi\u202eflip", `bidi\u202eflip`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"real \ufffd stays", "real \ufffd stays"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Command Injection in lodash", "Command Injection in lodash"},
		{"<img src=x onerror=alert(1)>", `&lt;img src=x onerror=alert(1)&gt;`},
		{"[click](https://evil.example)", `\[click\](https://evil.example)`},
		{"![img](https://evil.example/t.png)", `!\[img\](https://evil.example/t.png)`},
		{"@types/node and (@babel/core)", "@&#8203;types/node and (@&#8203;babel/core)"},
		{"pin debug@4.4.1 from git@github.com", "pin debug@4.4.1 from git@github.com"},
		{"a|b", `a\|b`},
	}
	for _, tt := range tests {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	codes := []struct {
		in      string
		inTable bool
		want    string
	}{
		{"debug@4.4.2", false, "`debug@4.4.2`"},
		{"we`ird", false, "``we`ird``"},
		{"`edge", false, "`` `edge ``"},
		{"a|b", true, "`a\\|b`"},
		{"a|b", false, "`a|b`"},
	}
	for _, tt := range codes {
		if got := mdCode(tt.in, tt.inTable); got != tt.want {
			t.Errorf("mdCode(%q, %v) = %q, want %q", tt.in, tt.inTable, got, tt.want)
		}
	}
}

// hostile is a result whose names and texts try to break out of every
// format: terminal escapes, HTML, Markdown links, table pipes, mentions.
func hostile(name, summary, pathEl string) *scan.Result {
	return &scan.Result{Files: []scan.FileResult{{
		Path: "package-lock.json", Status: scan.StatusOK, PackageCount: 1,
		Findings: []scan.Finding{{
			ID: "GHSA-test", Kind: scan.KindVulnerability, Severity: scan.SeverityHigh,
			Package: npm.PackageVersion{Name: name, Version: "1.0.0"},
			Summary: summary, Details: summary, Remediation: summary,
			Paths:    []lockfile.Path{{"(root)", pathEl, name + "@1.0.0"}},
			Location: lockfile.Location{File: "package-lock.json", Line: 3},
		}},
	}}}
}

func TestHostileInput(t *testing.T) {
	r := hostile("evil\x1b]8;;https://x\x07pkg|<b>", "<script>alert(1)</script> [x](javascript:alert(1)) @octocat | \x1b[31m", "p\x1b[2Jq")
	checkHostile(t, r)
}

func checkHostile(t *testing.T, r *scan.Result) {
	t.Helper()
	for _, format := range Formats() {
		out := render(t, format, Options{Verbose: true}, r)
		switch format {
		case "table", "markdown":
			if bytes.ContainsRune(out, 0x1b) || bytes.ContainsRune(out, 0x07) {
				t.Errorf("%s: raw control character in output:\n%q", format, out)
			}
		}
		if format == "markdown" {
			// Code spans show < literally, so only text outside them counts.
			rest := stripCodeSpans(string(out))
			for _, tag := range []string{"<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>"} {
				rest = strings.ReplaceAll(rest, tag, "")
			}
			if strings.Contains(rest, "<") {
				t.Errorf("markdown: unescaped < in output:\n%s", out)
			}
		}
	}
}

func FuzzHandlers(f *testing.F) {
	f.Add("debug", "Malicious code in debug", "express@4.21.2", "package-lock.json")
	f.Add("@scope/pkg", "<img src=x>|`code`|@user", "a|b", "my app/yarn.lock")
	f.Add("evil\x1b[2J", "line\nbreak\r\u202e", "\xff\xfe", "a:b#c%d?.json")
	sarifSchema := compileSchema(f, sarifSchemaPath)
	jsonSchema := compileSchema(f, jsonSchemaPath)
	f.Fuzz(func(t *testing.T, name, summary, pathEl, file string) {
		r := hostile(name, summary, pathEl)
		r.Files[0].Path = file
		r.Files[0].Findings[0].Location.File = file
		checkHostile(t, r)
		// JSON and SARIF must stay valid whatever the strings hold.
		if err := jsonSchema.Validate(instance(t, render(t, "json", Options{}, r))); err != nil {
			t.Errorf("json: %v", err)
		}
		if err := sarifSchema.Validate(instance(t, render(t, "sarif", Options{BaseDir: "/repo"}, r))); err != nil {
			t.Errorf("sarif: %v", err)
		}
	})
}

// stripCodeSpans removes Markdown code spans: a run of n backticks up to the
// next run of exactly n.
func stripCodeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		end := -1
		for j := i + n; j < len(s); {
			if s[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(s) && s[j+m] == '`' {
				m++
			}
			if m == n {
				end = j + m
				break
			}
			j += m
		}
		if end < 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		i = end
	}
	return b.String()
}

func TestGroupFindings(t *testing.T) {
	active, ignored, err := groupFindings(context.Background(), fixture())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range active {
		got = append(got, fmt.Sprintf("%s/%s/%d", g.id, g.kind, len(g.occ)))
	}
	// Malware first (one group, two lockfiles), then vulnerabilities, then
	// hygiene; the ignored critical vulnerability is not among them.
	want := "MAL-2025-46974/malware/2 GHSA-35jh-r3h4-6jhm/vulnerability/1 VGL-H005/hygiene/1"
	if strings.Join(got, " ") != want {
		t.Errorf("active groups = %v, want %s", got, want)
	}
	if len(ignored) != 1 || ignored[0].id != "GHSA-xvch-5gv4-984h" {
		t.Errorf("ignored groups = %v", ignored)
	}

	// One id with two kinds (a blocklist entry) stays in two sections.
	r := &scan.Result{Files: []scan.FileResult{{Path: "a", Status: scan.StatusOK, Findings: []scan.Finding{
		{ID: "VGL-BLOCK", Kind: scan.KindVulnerability, Severity: scan.SeverityHigh, Package: npm.PackageVersion{Name: "a", Version: "1.0.0"}},
		{ID: "VGL-BLOCK", Kind: scan.KindMalware, Severity: scan.SeverityCritical, Package: npm.PackageVersion{Name: "b", Version: "1.0.0"}},
	}}}}
	active, _, _ = groupFindings(context.Background(), r)
	if len(active) != 2 || active[0].kind != scan.KindMalware || active[1].kind != scan.KindVulnerability {
		t.Errorf("VGL-BLOCK groups: %d, first kind %v", len(active), active[0].kind)
	}
}
