package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-sec/vigil/internal/scan"
)

const (
	jsonSchemaPath  = "../../docs/vigil-scan.schema.json"
	jsonSchemaDoc   = "../../docs/json-schema.md"
	sarifSchemaPath = "testdata/sarif-schema-2.1.0.json"
)

// compileSchema compiles a schema file with format assertions on, so that
// "date-time" and "uri" are checked rather than merely annotated.
func compileSchema(t testing.TB, path string) *jsonschema.Schema {
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

func instance(t testing.TB, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, data)
	}
	return v
}

// results the schemas are checked against: the full fixture, a clean scan,
// a scan that found nothing, and a failed file without an error message.
func schemaCases() map[string]*scan.Result {
	return map[string]*scan.Result{
		"fixture":    fixture(),
		"clean":      cleanFixture(),
		"zero":       {},
		"bare error": {Files: []scan.FileResult{{Path: "x/yarn.lock", Status: scan.StatusError}}},
		"hostile":    hostile("evil\x1b|<b>", "<script>\n@x", "p\xffq"),
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t, jsonSchemaPath)
	for name, r := range schemaCases() {
		for _, opts := range []Options{{}, {Version: "1.2.3"}} {
			out := render(t, "json", opts, r)
			if err := sch.Validate(instance(t, out)); err != nil {
				t.Errorf("%s (version %q): output does not match %s:\n%v", name, opts.Version, jsonSchemaPath, err)
			}
		}
	}
}

// The schema must be strict enough to notice drift: an unknown field, a
// missing required one, or a renamed enum value must fail validation.
func TestJSONSchemaRejectsDrift(t *testing.T) {
	sch := compileSchema(t, jsonSchemaPath)
	out := render(t, "json", Options{}, fixture())
	mutations := map[string]func(m map[string]any){
		"unknown top-level field": func(m map[string]any) { m["extra"] = 1 },
		"missing files":           func(m map[string]any) { delete(m, "files") },
		"unknown finding field": func(m map[string]any) {
			finding(m)["cvss"] = 9.8
		},
		"renamed kind": func(m map[string]any) { finding(m)["kind"] = "virus" },
		"camelCase field": func(m map[string]any) {
			f := finding(m)
			f["safeVersion"] = f["safe_version"]
			delete(f, "safe_version")
		},
		"bad time":               func(m map[string]any) { m["started"] = "yesterday" },
		"ignored without reason": func(m map[string]any) { finding(m)["ignored"] = true },
		"other schema version":   func(m map[string]any) { m["schema_version"] = "2.0" },
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

func finding(m map[string]any) map[string]any {
	return m["files"].([]any)[0].(map[string]any)["findings"].([]any)[0].(map[string]any)
}

// TestJSONSchemaDocumented checks that every property the schema defines is
// named in docs/json-schema.md, and that the page's example is a valid
// report, so the prose cannot fall behind the schema.
func TestJSONSchemaDocumented(t *testing.T) {
	raw, err := os.ReadFile(jsonSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(jsonSchemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	names := schemaPropertyNames(t, raw)
	for _, name := range names {
		if !bytes.Contains(doc, []byte("`"+name+"`")) {
			t.Errorf("schema property %q is not documented in %s", name, jsonSchemaDoc)
		}
	}

	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no json example", jsonSchemaDoc)
	}
	sch := compileSchema(t, jsonSchemaPath)
	if err := sch.Validate(instance(t, m[1])); err != nil {
		t.Errorf("the example in %s does not match the schema:\n%v", jsonSchemaDoc, err)
	}
}

func TestSARIFMatchesOfficialSchema(t *testing.T) {
	sch := compileSchema(t, sarifSchemaPath)
	for name, r := range schemaCases() {
		for _, opts := range []Options{{}, {Version: "1.2.3", BaseDir: "/repo"}} {
			out := render(t, "sarif", opts, r)
			if err := sch.Validate(instance(t, out)); err != nil {
				t.Errorf("%s: SARIF output does not match the SARIF 2.1.0 schema:\n%v", name, err)
			}
		}
	}
	// And the schema is really checking: a level SARIF does not define, or
	// a region with line 0, must be refused.
	out := render(t, "sarif", Options{}, fixture())
	for name, mutate := range map[string]func(run map[string]any){
		"bad level": func(run map[string]any) {
			run["results"].([]any)[0].(map[string]any)["level"] = "fatal"
		},
		"line 0": func(run map[string]any) {
			loc := run["results"].([]any)[0].(map[string]any)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = 0
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m["runs"].([]any)[0].(map[string]any))
		data, _ := json.Marshal(m)
		if err := sch.Validate(instance(t, data)); err == nil {
			t.Errorf("%s: SARIF schema accepted it", name)
		}
	}
}

// TestSARIFContent checks the properties code-scanning services rely on,
// which the schema leaves optional.
func TestSARIFContent(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal(render(t, "sarif", Options{Version: "1.2.3"}, fixture()), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	rules := map[string]sarifRule{}
	for _, r := range run.Tool.Driver.Rules {
		rules[r.ID] = r
	}
	wantRules := map[string]struct{ sev, help string }{
		"MAL-2025-46974":      {"9.5", "https://github.com/debug-js/debug/issues/1005"},
		"GHSA-35jh-r3h4-6jhm": {"8.0", "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"},
		"GHSA-xvch-5gv4-984h": {"9.5", "https://osv.dev/vulnerability/GHSA-xvch-5gv4-984h"},
		"VGL-H005":            {"5.5", ""},
	}
	if len(rules) != len(wantRules) {
		t.Errorf("%d rules, want %d", len(rules), len(wantRules))
	}
	for id, want := range wantRules {
		r, ok := rules[id]
		if !ok {
			t.Errorf("no rule %s", id)
			continue
		}
		if r.Properties.SecuritySeverity != want.sev || r.HelpURI != want.help {
			t.Errorf("rule %s: security-severity %q helpUri %q, want %q %q", id, r.Properties.SecuritySeverity, r.HelpURI, want.sev, want.help)
		}
	}
	levels := map[string]string{}
	fingerprints := map[string]bool{}
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d points at %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		levels[res.RuleID] = res.Level
		fp := res.PartialFingerprints[fingerprintKey]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %s: fingerprint %q missing or duplicated", res.RuleID, fp)
		}
		fingerprints[fp] = true
		if !strings.Contains(res.Message.Text, "@") || !strings.Contains(res.Message.Text, "›") {
			t.Errorf("result %s: message lacks package@version or path: %q", res.RuleID, res.Message.Text)
		}
		if (res.RuleID == "GHSA-xvch-5gv4-984h") != (len(res.Suppressions) == 1) {
			t.Errorf("result %s: suppressions %v", res.RuleID, res.Suppressions)
		}
	}
	for id, want := range map[string]string{"MAL-2025-46974": "error", "GHSA-35jh-r3h4-6jhm": "error", "VGL-H005": "warning"} {
		if levels[id] != want {
			t.Errorf("result %s: level %q, want %q", id, levels[id], want)
		}
	}
	if len(run.Results) != 5 {
		t.Errorf("%d results, want 5 (malware in two files, vuln, hygiene, ignored)", len(run.Results))
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 || len(inv.ToolConfigurationNotifications) != 1 {
		t.Errorf("invocation = %+v, want unsuccessful with one execution and one configuration notification", inv)
	}
	if r := inv.ToolExecutionNotifications[0].Locations[0].PhysicalLocation.Region; r == nil || r.StartLine != 12 || r.StartColumn != 3 {
		t.Errorf("parse failure region = %+v, want 12:3", r)
	}

	// A lockfile edit that moves the package keeps the same fingerprint.
	moved := fixture()
	moved.Files[0].Findings[0].Location.Line += 40
	var log2 sarifLog
	if err := json.Unmarshal(render(t, "sarif", Options{}, moved), &log2); err != nil {
		t.Fatal(err)
	}
	if a, b := run.Results[0].PartialFingerprints[fingerprintKey], log2.Runs[0].Results[0].PartialFingerprints[fingerprintKey]; a != b {
		t.Errorf("fingerprint changed with the line: %s vs %s", a, b)
	}
}

// schemaPropertyNames lists, sorted and unique, every property name a JSON
// Schema declares at any depth, so a test can check each is documented.
func schemaPropertyNames(t *testing.T, raw []byte) []string {
	t.Helper()
	var schema any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					names = append(names, name)
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(schema)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 40 {
		t.Fatalf("found only %d property names in the schema; the walk is broken", len(names))
	}
	return names
}
