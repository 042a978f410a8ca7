package yarnlock

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// corpusDir is the shared lockfile corpus, beside the repository.
const corpusDir = "../../../../shared/corpus/lockfiles"

func parseFile(t testing.TB, path string) *lockfile.Graph {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Reader{}.Parse(context.Background(), path, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return g
}

// checkExpected compares Graph.ThirdParty with the sorted name@version list
// in expectedPath.
func checkExpected(t *testing.T, g *lockfile.Graph, expectedPath string) {
	t.Helper()
	data, err := os.ReadFile(expectedPath)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(data))
	var got []string
	for _, pv := range g.ThirdParty() {
		got = append(got, pv.String())
	}
	wantSet := make(map[string]bool, len(want))
	for _, w := range want {
		wantSet[w] = true
	}
	gotSet := make(map[string]bool, len(got))
	for _, g := range got {
		gotSet[g] = true
		if !wantSet[g] {
			t.Errorf("extra: %s", g)
		}
	}
	for _, w := range want {
		if !gotSet[w] {
			t.Errorf("missing: %s", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d packages, want %d", len(got), len(want))
	}
}

// TestCorpus checks every yarn.lock of the shared corpus against the
// third-party list that comes with it.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "yarn-*", "yarn.lock"))
	if len(files) == 0 {
		t.Skipf("no yarn.lock under %s: the shared corpus is not beside this repository", corpusDir)
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, corpusDir+"/"), func(t *testing.T) {
			g := parseFile(t, f)
			want := lockfile.FormatYarnV1
			if strings.Contains(f, "berry") {
				want = lockfile.FormatYarnBerry
			}
			if g.Format != want {
				t.Errorf("Format = %q, want %q", g.Format, want)
			}
			checkExpected(t, g, f+".expected.txt")
		})
	}
}

// TestWebappMedium is TestCorpus on the copies in testdata, so that it runs
// without the shared corpus.
func TestWebappMedium(t *testing.T) {
	for _, dialect := range []string{"yarn-v1", "yarn-berry"} {
		t.Run(dialect, func(t *testing.T) {
			f := filepath.Join("testdata", "webapp-medium", dialect, "yarn.lock")
			checkExpected(t, parseFile(t, f), f+".expected.txt")
		})
	}
}

// TestFlagsMatchNpm checks AttachManifests' Dev, Optional and DevOptional
// against npm's own flags in the package-lock.json the corpus has for the
// same resolution of webapp-medium. Where npm installs copies of one
// name@version with different flags, yarn installs one; those are skipped.
func TestFlagsMatchNpm(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir, "webapp-medium", "npm-v3", "package-lock.json"))
	if err != nil {
		t.Skipf("no webapp-medium package-lock.json under %s: the shared corpus is not beside this repository", corpusDir)
	}
	var lock struct {
		Packages map[string]struct {
			Name, Version              string
			Dev, Optional, DevOptional bool
		}
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	npmFlags := make(map[string]flags)
	mixed := make(map[string]bool)
	for path, p := range lock.Packages {
		if path == "" {
			continue
		}
		name := p.Name
		if name == "" {
			name = path[strings.LastIndex(path, "node_modules/")+len("node_modules/"):]
		}
		key, f := name+"@"+p.Version, flags{dev: p.Dev, optional: p.Optional, devOptional: p.DevOptional}
		if prev, seen := npmFlags[key]; seen && prev != f {
			mixed[key] = true
		}
		npmFlags[key] = f
	}
	for _, dialect := range []string{"yarn-v1", "yarn-berry"} {
		t.Run(dialect, func(t *testing.T) {
			dir := filepath.Join(corpusDir, "webapp-medium", dialect)
			g := parseFile(t, filepath.Join(dir, "yarn.lock"))
			if err := AttachManifests(g, readManifests(t, dir)); err != nil {
				t.Fatal(err)
			}
			compared := 0
			for i := range g.Packages {
				p := &g.Packages[i]
				want, ok := npmFlags[p.String()]
				if !ok || mixed[p.String()] {
					continue // Berry's node-gyp and its dependencies; copies
				}
				compared++
				got := flagsOf(p)
				got.direct = false
				if got != want {
					t.Errorf("%s: %+v, npm says %+v", p, got, want)
				}
			}
			if compared < 600 {
				t.Errorf("compared only %d packages", compared)
			}
		})
	}
}
