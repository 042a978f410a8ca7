package pnpmlock

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// corpusDir is the shared corpus of real lockfiles, beside the repository.
const corpusDir = "../../../../shared/corpus/lockfiles"

// checkExpected parses file and compares Graph.ThirdParty() with the
// name@version list in expected, one per line.
func checkExpected(t *testing.T, file, expected string) *lockfile.Graph {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(expected)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Reader{}.Parse(context.Background(), file, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var got []string
	for _, pv := range g.ThirdParty() {
		got = append(got, pv.String())
	}
	wantLines := strings.Fields(string(want))
	gotSet := make(map[string]bool, len(got))
	for _, s := range got {
		gotSet[s] = true
	}
	wantSet := make(map[string]bool, len(wantLines))
	for _, s := range wantLines {
		wantSet[s] = true
		if !gotSet[s] {
			t.Errorf("%s: missing %s", file, s)
		}
	}
	for _, s := range got {
		if !wantSet[s] {
			t.Errorf("%s: unexpected %s", file, s)
		}
	}
	if len(got) != len(wantLines) {
		t.Errorf("%s: %d packages, want %d", file, len(got), len(wantLines))
	}
	return g
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "pnpm", "pnpm-lock.yaml"))
	if len(files) == 0 {
		t.Skipf("no shared corpus at %s (it lives beside the repository, not in it)", corpusDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(f))), func(t *testing.T) {
			checkExpected(t, f, f+".expected.txt")
		})
	}
}
