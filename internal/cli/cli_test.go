package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes vigil in-process with an empty imported database folder, so
// only the embedded snapshot applies whatever the developer's machine has.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("VIGIL_DB", filepath.Join(t.TempDir(), "db"))
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const demo = "../../testdata/demo"

func TestScanDemoReportsMalware(t *testing.T) {
	code, out, errs := run(t, "scan", demo)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, errs)
	}
	for _, want := range []string{"MAL-2025-46974", "debug@4.4.2", "storefront › nodemon@3.1.14 › debug@4.4.2", "4.4.1", "package-lock.json v3", "106"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
}

func TestScanJSON(t *testing.T) {
	code, out, _ := run(t, "scan", "--format", "json", "--lockfile", filepath.Join(demo, "package-lock.json"))
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Files         []struct {
			Format   string `json:"format"`
			Packages int    `json:"package_count"`
			Findings []struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"findings"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JSON output does not parse: %v\n%s", err, out)
	}
	if doc.SchemaVersion == "" || len(doc.Files) != 1 || doc.Files[0].Format != "package-lock.json v3" {
		t.Fatalf("unexpected document: %+v", doc)
	}
	found := false
	for _, f := range doc.Files[0].Findings {
		if f.ID == "MAL-2025-46974" && f.Kind == "malware" {
			found = true
		}
	}
	if !found {
		t.Errorf("MAL-2025-46974 not reported as malware: %+v", doc.Files[0].Findings)
	}
}

func TestScanExitCodes(t *testing.T) {
	empty := t.TempDir()
	emptyLock := filepath.Join(t.TempDir(), "package-lock.json")
	writeFile(t, emptyLock, `{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x"}}}`)
	clean := filepath.Join(t.TempDir(), "package-lock.json")
	writeFile(t, clean, `{"name":"x","lockfileVersion":3,"packages":{"":{"name":"x","dependencies":{"debug":"^4"}},
  "node_modules/debug":{"version":"4.4.1","resolved":"https://registry.npmjs.org/debug/-/debug-4.4.1.tgz","integrity":"sha512-KcKCqiftBJcZr++7ykoDIEwSa3XWowTfNPo92BYxjXiyYEVrUQh2aLyhxBCwww+heortUFxEJYcRgP/aKaRWXA=="}}}`)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no lockfile", []string{"scan", empty}, ExitNothing},
		{"no lockfile allowed", []string{"scan", "--allow-empty", empty}, ExitClean},
		{"lockfile without packages", []string{"scan", "-L", emptyLock}, ExitNothing},
		{"clean lockfile", []string{"scan", "-L", clean}, ExitClean},
		{"malware fails even at critical", []string{"scan", "--fail-on", "critical", demo}, ExitFindings},
		{"fail-on none", []string{"scan", "--fail-on", "none", demo}, ExitClean},
		{"bad fail-on", []string{"scan", "--fail-on", "sometimes", demo}, ExitUsage},
		{"unknown flag", []string{"scan", "--frobnicate", demo}, ExitUsage},
		{"missing path", []string{"scan", filepath.Join(empty, "nope")}, ExitUsage},
		{"bad format", []string{"scan", "--format", "xml", demo}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, out, errs)
			}
		})
	}
}

func TestScanPartialResults(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken", "package-lock.json")
	writeFile(t, bad, "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/x\": {\"version\": }\n  }\n}\n")
	data, err := os.ReadFile(filepath.Join(demo, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "app", "package-lock.json"), string(data))
	code, out, _ := run(t, "scan", dir)
	if code != ExitFindings {
		t.Fatalf("exit %d, want findings from the good lockfile:\n%s", code, out)
	}
	if !strings.Contains(out, "MAL-2025-46974") {
		t.Errorf("good lockfile's finding missing:\n%s", out)
	}
	if !strings.Contains(out, "package-lock.json:4:") {
		t.Errorf("broken lockfile's line and column missing:\n%s", out)
	}
}

func TestScanConfigIgnoreAndBlocklist(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(demo, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "package-lock.json"), string(data))
	writeFile(t, filepath.Join(dir, "vigil.yaml"), `
ignore:
  - id: MAL-2025-46974
    reason: incident handled in INC-42, machines reimaged
  - id: GHSA-none-none-none
    reason: left over
blocklist:
  - package: ms
    reason: banned by policy
    severity: medium
`)
	code, out, _ := run(t, "scan", "--fail-on", "high", dir)
	if code != ExitClean {
		t.Fatalf("exit %d: the malware is ignored and the blocklist entry is medium\n%s", code, out)
	}
	for _, want := range []string{"INC-42", "GHSA-none-none-none", "banned by policy"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := run(t, "scan", "--fail-on", "medium", dir); code != ExitFindings {
		t.Errorf("blocklist entry does not fail at medium: exit %d", code)
	}
	writeFile(t, filepath.Join(dir, "vigil.yaml"), "ignores: []\n")
	if code, _, errs := run(t, "scan", dir); code != ExitUsage || !strings.Contains(errs, "vigil.yaml") {
		t.Errorf("unknown config key: exit %d, stderr %q", code, errs)
	}
}

func TestSBOMCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bom.json")
	code, _, errs := run(t, "sbom", "--reproducible", "-o", out, demo)
	if code != ExitClean {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Purl string `json:"purl"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || len(bom.Components) != 106 {
		t.Fatalf("bomFormat %q with %d components, want CycloneDX with 106", bom.BOMFormat, len(bom.Components))
	}
	purls := map[string]bool{}
	for _, c := range bom.Components {
		purls[c.Purl] = true
	}
	if !purls["pkg:npm/debug@4.4.2"] || !purls["pkg:npm/express@4.21.2"] {
		t.Errorf("expected purls missing")
	}
	// The SBOM is itself scannable and yields the same finding.
	if code, sout, _ := run(t, "scan", "-L", out); code != ExitFindings || !strings.Contains(sout, "MAL-2025-46974") {
		t.Errorf("scanning the written SBOM: exit %d\n%s", code, sout)
	}
}

func TestDBImportAndStatus(t *testing.T) {
	dbDir := filepath.Join(t.TempDir(), "db")
	src := filepath.Join(t.TempDir(), "GHSA-test-0001.json")
	writeFile(t, src, `{"id":"GHSA-test-0001","modified":"2026-01-01T00:00:00Z","summary":"Prototype pollution in ms",
 "affected":[{"package":{"ecosystem":"npm","name":"ms"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.1.0"}]}]}],
 "database_specific":{"severity":"HIGH"}}`)
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"db", "import", "--db", dbDir, src}, nil, &out, &errb); code != 0 {
		t.Fatalf("import exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := Run(context.Background(), []string{"db", "status", "--db", dbDir}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "records: 1") {
		t.Fatalf("status exit %d: %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	code := Run(context.Background(), []string{"scan", "--db", dbDir, "--format", "json", demo}, nil, &out, &errb)
	if code != ExitFindings || !strings.Contains(out.String(), "GHSA-test-0001") || !strings.Contains(out.String(), "MAL-2025-46974") {
		t.Errorf("scan with imported db: exit %d; want both the imported and the embedded record:\n%s", code, out.String())
	}
	if code := Run(context.Background(), []string{"scan", "--db", filepath.Join(dbDir, "missing"), demo}, nil, &out, &errb); code != ExitUsage {
		t.Errorf("--db pointing at nothing: exit %d, want usage error", code)
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
