package npmlock

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds real lockfiles with their expected third-party lists; it
// lives in ../shared beside the repository and is not part of it.
const corpusDir = "../../../../shared/corpus/lockfiles"

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "npm-*", "package-lock.json"))
	if len(files) == 0 {
		t.Skipf("no lockfile corpus at %s (it lives in ../shared beside the repository)", corpusDir)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(corpusDir, file)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			checkExpected(t, file, file+".expected.txt")
		})
	}
}

// checkExpected parses a lockfile and compares Graph.ThirdParty() with the
// sorted name@version list in expectedFile, reporting a diff.
func checkExpected(t *testing.T, file, expectedFile string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(expectedFile)
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
	if d := lineDiff(wantLines, got); d != "" {
		t.Errorf("ThirdParty() of %s differs from %s (-want +got):\n%s", file, expectedFile, d)
	}
	checkGraph(t, file, g, data)
}

// lineDiff lists lines only in want (-) or only in got (+), and duplicates.
func lineDiff(want, got []string) string {
	count := map[string]int{}
	for _, l := range want {
		count[l]--
	}
	for _, l := range got {
		count[l]++
	}
	var b strings.Builder
	for _, l := range want {
		if count[l] < 0 {
			b.WriteString("-" + l + "\n")
			count[l]++
		}
	}
	for _, l := range got {
		if count[l] > 0 {
			b.WriteString("+" + l + "\n")
			count[l]--
		}
	}
	if b.Len() == 0 && len(want) != len(got) {
		b.WriteString("same lines, different counts\n")
	}
	return b.String()
}
