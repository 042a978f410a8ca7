package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// seedDownloads records the September 2025 debug compromise as a proxy
// would have seen it from a few machines.
func seedDownloads(t *testing.T, s store.Store) {
	t.Helper()
	at := func(h, m, sec int) time.Time { return time.Date(2025, 9, 8, h, m, sec, 0, time.UTC) }
	ua := "npm/10.8.2 node/v20.17.0 linux x64 workspaces/false"
	for _, d := range []store.Download{
		{Time: at(12, 58, 3), Name: "debug", Version: "4.4.1", Client: "10.0.0.5:40001", UserAgent: ua, NpmCommand: "install", Action: policy.Allow, Status: 200},
		{Time: at(13, 16, 4), Name: "debug", Version: "4.4.2", Client: "10.0.0.7:53422", UserAgent: ua + " ci/github-actions", NpmCommand: "ci", Action: policy.Allow, Status: 200, Integrity: "sha512-AAAA"},
		{Time: at(13, 40, 0), Name: "debug", Version: "4.4.2", Client: "10.0.0.71:1234", UserAgent: "pnpm/10.15.0 npm/? node/v22.19.0 linux x64", Action: policy.Allow, Status: 200},
		{Time: at(14, 0, 0), Name: "chalk", Version: "5.6.1", Client: "10.0.0.7:53423", UserAgent: ua, NpmCommand: "ci", Action: policy.Block, Status: 403, Reason: "MAL-2025-47026"},
		{Time: at(14, 30, 0), Name: "debug", Version: "4.4.2", Client: "[2001:db8::1]:443", UserAgent: "yarn/1.22.22 npm/? node/v20.17.0 darwin arm64", Action: policy.Block, Status: 403, Reason: "MAL-2025-46974"},
		{Time: at(15, 20, 0), Name: "debug", Version: "4.4.2", Client: "10.0.0.7:53999", UserAgent: "evil\x1b[2J\x1b[31mterminal", NpmCommand: "ci", Action: policy.Block, Status: 403, Reason: "MAL-2025-46974"},
		{Time: at(16, 0, 0), Name: "debug", Version: "4.4.3", Client: "10.0.0.9", UserAgent: "bun/1.2.21", Action: policy.Allow, Status: 200},
	} {
		if err := s.RecordDownload(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDownloadsIncidentTable(t *testing.T) {
	_, s := tempStore(t)
	seedDownloads(t, s)
	code, out, errs := run(t, "downloads", "--package", "debug@4.4.2", "--since", "2025-09-08T13:16:00Z", "--until", "2025-09-08T15:20:00Z")
	if code != ExitClean {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkStoreGolden(t, "downloads-incident.txt", out)
	// 15:20 is excluded (--until is exclusive), 12:58 is before the window.
	if strings.Contains(out, "15:20:00") || strings.Contains(out, "4.4.1") {
		t.Errorf("window not applied:\n%s", out)
	}
}

func TestDownloadsSanitisesClientText(t *testing.T) {
	_, s := tempStore(t)
	seedDownloads(t, s)
	_, out, _ := run(t, "downloads", "--client", "10.0.0.7", "--action", "block", "--package", "debug")
	if strings.Contains(out, "\x1b") {
		t.Fatalf("a User-Agent's escape sequence reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `evil\x1b[2J\x1b[31mterminal`) {
		t.Errorf("sanitised User-Agent missing:\n%s", out)
	}
}

func TestDownloadsJSON(t *testing.T) {
	_, s := tempStore(t)
	seedDownloads(t, s)
	code, out, errs := run(t, "downloads", "--package", "debug@^4.4.0", "--since", "2025-09-08", "--until", "2025-09-08", "--format", "json")
	if code != ExitClean {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkStoreGolden(t, "downloads-range.json", out)
	var doc struct {
		SchemaVersion string           `json:"schema_version"`
		Count         int              `json:"count"`
		Clients       []string         `json:"clients"`
		Downloads     []store.Download `json:"downloads"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// A bare --until date includes that day: 16:00 is in.
	if doc.SchemaVersion != downloadsSchemaVersion || doc.Count != 6 || len(doc.Downloads) != 6 || doc.Downloads[5].Version != "4.4.3" {
		t.Errorf("unexpected document: %+v", doc)
	}
	if strings.Join(doc.Clients, " ") != "10.0.0.5 10.0.0.7 10.0.0.71 2001:db8::1 10.0.0.9" {
		t.Errorf("clients = %q", doc.Clients)
	}
}

func TestDownloadsFilters(t *testing.T) {
	_, s := tempStore(t)
	seedDownloads(t, s)
	tests := []struct {
		args []string
		want int // rows
	}{
		{[]string{}, 7},
		{[]string{"--package", "chalk"}, 1},
		{[]string{"--package", "debug@4.4.2", "--action", "block"}, 2},
		{[]string{"--client", "10.0.0.7"}, 3},
		{[]string{"--client", "10.0.0.7:53422"}, 1},
		{[]string{"--client", "2001:db8::1"}, 1},
		{[]string{"--limit", "2"}, 2},
		{[]string{"--package", "debug@>=4.4.2", "--limit", "3"}, 3},
		{[]string{"--since", "2025-09-08T15:00"}, 2},
		{[]string{"--package", "left-pad"}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := run(t, append([]string{"downloads", "--format", "json"}, tt.args...)...)
			if code != ExitClean {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var doc struct {
				Count     int              `json:"count"`
				Downloads []store.Download `json:"downloads"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Count != tt.want || len(doc.Downloads) != tt.want {
				t.Errorf("got %d downloads, want %d:\n%s", doc.Count, tt.want, out)
			}
		})
	}
}

func TestDownloadsUsageErrors(t *testing.T) {
	tempStore(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--package", "has space@1.0.0"}, "not allowed"},
		{[]string{"--package", "debug@"}, "nothing after '@'"},
		{[]string{"--package", "debug@>>>1"}, "version range"},
		{[]string{"--package", "@evil/*"}, "scope pattern is not allowed"},
		{[]string{"--since", "yesterday"}, "--since"},
		{[]string{"--until", "13:00"}, "--until"},
		{[]string{"--since", "2025-09-08T15:00:00Z", "--until", "2025-09-08T13:00:00Z"}, "is not after"},
		{[]string{"--action", "deny"}, "want allow, warn or block"},
		{[]string{"--format", "xml"}, "--format"},
		{[]string{"--limit", "-1"}, "--limit"},
		{[]string{"extra-arg"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := run(t, append([]string{"downloads"}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, ExitUsage, tt.want)
			}
		})
	}
}

func TestDownloadsMissingStoreIsNotCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo", "store.db")
	t.Setenv("VIGIL_STORE", path)
	code, out, errs := run(t, "downloads", "--package", "debug")
	if code != ExitClean || out != "no downloads match\n" || !strings.Contains(errs, "no store at "+path) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a read-only command created the store: %v", err)
	}
}
