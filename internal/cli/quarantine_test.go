package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

func TestQuarantineAddListRemove(t *testing.T) {
	path, _ := tempStore(t)
	t.Setenv("USER", "ada")
	steps := []struct {
		args []string
		code int
		out  string // substring of stdout (exit 0) or stderr
	}{
		{[]string{"quarantine", "add", "debug@4.4.2", "--reason", "MAL-2025-46974"}, ExitClean, "quarantined debug@4.4.2\n"},
		{[]string{"quarantine", "add", "@evil/*", "--reason", "scope taken over", "--by", "sec-team", "--expires", "2099-12-31"}, ExitClean, "quarantined @evil/* until 2100-01-01T00:00:00Z"},
		{[]string{"quarantine", "add", "chalk@>=5.6.1 <5.6.2", "--reason", "investigating", "--expires", "72h"}, ExitClean, "quarantined chalk@>=5.6.1 <5.6.2 until "},
		{[]string{"quarantine", "ls"}, ExitClean, "3 entries"},
		{[]string{"quarantine", "rm", "debug@4.4.2"}, ExitClean, "removed debug@4.4.2 from the quarantine"},
		{[]string{"quarantine", "rm", "debug@4.4.2"}, ExitUsage, "no quarantine entry debug@4.4.2"},
		{[]string{"quarantine", "rm", "chalk"}, ExitUsage, "no quarantine entry chalk "},
	}
	for _, st := range steps {
		code, out, errs := run(t, st.args...)
		got := out
		if st.code != ExitClean {
			got = errs
		}
		if code != st.code || !strings.Contains(got, st.out) {
			t.Fatalf("vigil %q: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant output containing %q", st.args, code, st.code, out, errs, st.out)
		}
	}
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Quarantine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Package != "@evil/*" || got[0].AddedBy != "sec-team" || got[1].Package != "chalk" || got[1].AddedBy != "ada" {
		t.Fatalf("store holds %+v", got)
	}
	if d := time.Until(got[1].Expires); d < 71*time.Hour || d > 73*time.Hour {
		t.Errorf("--expires 72h stored as %v", got[1].Expires)
	}
}

func TestQuarantineReAddReplaces(t *testing.T) {
	_, s := tempStore(t)
	for _, reason := range []string{"suspected", "confirmed"} {
		if code, _, errs := run(t, "quarantine", "add", "debug@4.4.2", "--reason", reason); code != ExitClean {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	got, err := s.Quarantine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Reason != "confirmed" {
		t.Errorf("re-adding should replace: %+v", got)
	}
}

func TestQuarantineUsageErrors(t *testing.T) {
	tempStore(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"add", "debug@4.4.2"}, "--reason is required"},
		{[]string{"add", "debug@4.4.2", "--reason", "  "}, "--reason is required"},
		{[]string{"add", "Not Valid", "--reason", "r"}, "not allowed"},
		{[]string{"add", "debug@>>1", "--reason", "r"}, "version range"},
		{[]string{"add", "@evil/*@1.0.0", "--reason", "r"}, "covers every version"},
		{[]string{"add", "debug", "--reason", "r", "--expires", "2020-01-01"}, "in the past"},
		{[]string{"add", "debug", "--reason", "r", "--expires", "whenever"}, "--expires"},
		{[]string{"add", "--reason", "r"}, "accepts 1 arg"},
		{[]string{"rm", "debug@"}, "nothing after '@'"},
		{[]string{"rm", "left-pad"}, "no quarantine entry left-pad"},
		{[]string{"ls", "--format", "yaml"}, "--format"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := run(t, append([]string{"quarantine"}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, ExitUsage, tt.want)
			}
		})
	}
}

// seedQuarantine adds entries with fixed times, so listings are stable:
// one expired long ago, the others expiring far in the future or never.
func seedQuarantine(t *testing.T, s store.Store) {
	t.Helper()
	added := time.Date(2025, 9, 8, 14, 2, 0, 0, time.UTC)
	for _, e := range []policy.QuarantineEntry{
		{Package: "debug", Versions: "4.4.2", Reason: "MAL-2025-46974: compromised release", AddedBy: "sec-team", AddedAt: added},
		{Package: "chalk", Versions: ">=5.6.1 <5.6.2", Reason: "investigating", AddedBy: "ada", AddedAt: added, Expires: time.Date(2025, 9, 11, 14, 2, 0, 0, time.UTC)},
		{Package: "@evil/*", Reason: "scope taken over", AddedAt: added, Expires: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Package: "left-pad", Reason: "reason with \x1b]0;title\x07 escapes", AddedBy: "ada", AddedAt: added},
	} {
		if err := s.AddQuarantine(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuarantineList(t *testing.T) {
	_, s := tempStore(t)
	seedQuarantine(t, s)
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"quarantine-ls.txt", []string{"quarantine", "ls"}},
		{"quarantine-ls-all.txt", []string{"quarantine", "ls", "--all"}},
		{"quarantine-ls-all.json", []string{"quarantine", "ls", "--all", "--format", "json"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errs := run(t, tt.args...)
			if code != ExitClean {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if strings.Contains(out, "\x1b") {
				t.Errorf("escape sequence from a reason reached the terminal: %q", out)
			}
			checkStoreGolden(t, tt.golden, out)
		})
	}
	_, out, _ := run(t, "quarantine", "ls", "--format", "json")
	var doc quarantineDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != quarantineSchemaVersion || len(doc.Entries) != 3 || doc.HiddenExpired != 1 {
		t.Errorf("without --all: %+v", doc)
	}
	for _, e := range doc.Entries {
		if e.Package == "chalk" || e.Expired {
			t.Errorf("expired entry listed without --all: %+v", e)
		}
	}
}

func TestQuarantineListEmpty(t *testing.T) {
	tempStore(t)
	code, out, _ := run(t, "quarantine", "ls")
	if code != ExitClean || out != "no quarantine entries\n" {
		t.Errorf("exit %d, %q", code, out)
	}
}
