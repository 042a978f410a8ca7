package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

var updateStoreGolden = flag.Bool("update-store", false, "rewrite the golden files in testdata/store/")

// checkStoreGolden compares got with testdata/store/name (rewritten with
// -update-store).
func checkStoreGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "store", name)
	if *updateStoreGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-store to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update-store to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// tempStore points $VIGIL_STORE at a new SQLite file and returns its path
// and the open store for seeding (closed when the test ends).
func tempStore(t *testing.T) (string, store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store.db")
	t.Setenv("VIGIL_STORE", path)
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return path, s
}

func TestParsePackageSpec(t *testing.T) {
	tests := []struct {
		spec           string
		wildcard       bool
		name, versions string
		err            string
	}{
		{spec: "debug", name: "debug"},
		{spec: "debug@4.4.2", name: "debug", versions: "4.4.2"},
		{spec: "debug@>=4.4.2 <4.4.3", name: "debug", versions: ">=4.4.2 <4.4.3"},
		{spec: "@acme/left-pad@^1.3", name: "@acme/left-pad", versions: "^1.3"},
		{spec: "@acme/left-pad", name: "@acme/left-pad"},
		{spec: " JSONStream@1.x ", name: "JSONStream", versions: "1.x"},
		{spec: "@evil/*", wildcard: true, name: "@evil/*"},
		{spec: "@evil/*", err: "scope pattern is not allowed"},
		{spec: "@evil/*@1.0.0", wildcard: true, err: "covers every version"},
		{spec: "debug@", err: "nothing after '@'"},
		{spec: "debug@>>>1", err: "version range"},
		{spec: "has space", err: "not allowed"},
		{spec: "", err: "empty package name"},
		{spec: "@scope", err: "scoped name"},
		{spec: "a/b", wildcard: true, err: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			name, versions, err := parsePackageSpec(tt.spec, tt.wildcard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parsePackageSpec(%q) = %q, %q, %v; want error containing %q", tt.spec, name, versions, err, tt.err)
				}
				return
			}
			if err != nil || name != tt.name || versions != tt.versions {
				t.Fatalf("parsePackageSpec(%q) = %q, %q, %v; want %q, %q", tt.spec, name, versions, err, tt.name, tt.versions)
			}
		})
	}
}

func TestParseTimeFlag(t *testing.T) {
	tests := []struct {
		in       string
		endOfDay bool
		want     string
	}{
		{"2025-09-08T13:16:00Z", false, "2025-09-08T13:16:00Z"},
		{"2025-09-08T15:16:00+02:00", false, "2025-09-08T13:16:00Z"},
		{"2025-09-08T13:16:00.5Z", false, "2025-09-08T13:16:00.5Z"},
		{"2025-09-08T13:16", false, "2025-09-08T13:16:00Z"},
		{"2025-09-08 13:16:30", false, "2025-09-08T13:16:30Z"},
		{"2025-09-08", false, "2025-09-08T00:00:00Z"},
		{"2025-09-08", true, "2025-09-09T00:00:00Z"},
		{"2025-09-08T13:16:00Z", true, "2025-09-08T13:16:00Z"}, // a time is exact either way
	}
	for _, tt := range tests {
		got, err := parseTimeFlag(tt.in, tt.endOfDay)
		if err != nil || got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("parseTimeFlag(%q, %v) = %v, %v; want %s", tt.in, tt.endOfDay, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2025-13-01", "08/09/2025", "2025-09-08T25:00:00Z"} {
		if _, err := parseTimeFlag(bad, false); err == nil {
			t.Errorf("parseTimeFlag(%q) accepted", bad)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct{ in, want, err string }{
		{in: "72h", want: "2026-01-13T12:00:00Z"},
		{in: "30d", want: "2026-02-09T12:00:00Z"},
		{in: "2026-12-31", want: "2027-01-01T00:00:00Z"},
		{in: "2026-06-01T08:00:00Z", want: "2026-06-01T08:00:00Z"},
		{in: "2025-12-31", err: "in the past"},
		{in: "-5h", err: "must be positive"},
		{in: "0d", err: "positive number of days"},
		{in: "xd", err: "positive number of days"},
		{in: "soon", err: "want a date"},
	}
	for _, tt := range tests {
		got, err := parseExpiry(tt.in, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseExpiry(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("parseExpiry(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestStoreFlagOverridesEnv(t *testing.T) {
	envPath, s := tempStore(t)
	if err := s.AddQuarantine(t.Context(), policy.QuarantineEntry{Package: "in-env-store", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	flagPath := filepath.Join(t.TempDir(), "other.db")
	code, _, errs := run(t, "quarantine", "add", "in-flag-store", "--reason", "r", "--store", flagPath)
	if code != ExitClean {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, out, _ := run(t, "quarantine", "ls", "--store", "sqlite://"+flagPath)
	if !strings.Contains(out, "in-flag-store") || strings.Contains(out, "in-env-store") {
		t.Errorf("--store should win over $VIGIL_STORE (%s):\n%s", envPath, out)
	}
	_, out, _ = run(t, "quarantine", "ls")
	if !strings.Contains(out, "in-env-store") || strings.Contains(out, "in-flag-store") {
		t.Errorf("$VIGIL_STORE not used without --store:\n%s", out)
	}
	if code, _, errs := run(t, "quarantine", "ls", "--store", "mysql://db/vigil"); code != ExitUsage || !strings.Contains(errs, "unsupported scheme") {
		t.Errorf("bad DSN: exit %d, stderr %q; want a usage error", code, errs)
	}
}

// FuzzPackageSpec: whatever the input, parsePackageSpec either refuses it
// or returns a valid name and a range that, written back, parses the same.
func FuzzPackageSpec(f *testing.F) {
	for _, s := range []string{"debug", "debug@4.4.2", "@a/b@^1", "@evil/*", "x@>=1 <2 || 3", "@", "@@", "a@b@c", "@a/*@1"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, spec string, wildcard bool) {
		name, versions, err := parsePackageSpec(spec, wildcard)
		if err != nil {
			return
		}
		if err := store.ValidatePattern(name); err != nil {
			t.Fatalf("parsePackageSpec(%q) gave an invalid name %q: %v", spec, name, err)
		}
		n2, v2, err := parsePackageSpec(quarantineKey(name, versions), wildcard)
		if err != nil || n2 != name || v2 != versions {
			t.Fatalf("round trip of %q: %q %q -> %q %q, %v", spec, name, versions, n2, v2, err)
		}
	})
}

// FuzzTimeFlag: an accepted time printed as RFC 3339 reads back the same.
func FuzzTimeFlag(f *testing.F) {
	for _, s := range []string{"2025-09-08", "2025-09-08T13:16:00Z", "2025-09-08T13:16", "2025-09-08 13:16:00", "2025-09-08T13:16:00.123+05:30"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, endOfDay bool) {
		got, err := parseTimeFlag(s, endOfDay)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("parseTimeFlag(%q) not in UTC: %v", s, got)
		}
		back, err := parseTimeFlag(got.Format(time.RFC3339Nano), endOfDay)
		if err != nil || !back.Equal(got) {
			t.Fatalf("parseTimeFlag(%q) = %v; printed and re-read: %v, %v", s, got, back, err)
		}
	})
}
