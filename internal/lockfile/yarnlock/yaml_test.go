package yarnlock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// berryFiles are the Berry lockfiles to check the line reader on: those of
// testdata and, when present, of the shared corpus.
func berryFiles() []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixture", "berry-*", "yarn.lock"))
	files = append(files, filepath.Join("testdata", "webapp-medium", "yarn-berry", "yarn.lock"))
	if testing.Short() {
		return files // goccy/go-yaml takes seconds on the 1.2 MB corpus file
	}
	corpus, _ := filepath.Glob(filepath.Join(corpusDir, "*", "yarn-berry", "yarn.lock"))
	return append(files, corpus...)
}

// TestBerryMatchesYAML reads each Berry lockfile with a real YAML parser
// and checks that the line reader saw the same entries at the same lines,
// with the same version, resolution, dependencies, peer dependencies and
// optional flags.
func TestBerryMatchesYAML(t *testing.T) {
	for _, file := range berryFiles() {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b, err := readBerry(context.Background(), file, string(data))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]struct {
				Version          any
				Resolution       string
				Dependencies     map[string]any
				PeerDependencies map[string]any `yaml:"peerDependencies"`
				DependenciesMeta map[string]struct {
					Optional bool
				} `yaml:"dependenciesMeta"`
			}
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			delete(doc, "__metadata")
			f, err := parser.ParseBytes(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			lines := make(map[string]int)
			for _, mv := range f.Docs[0].Body.(*ast.MappingNode).Values {
				key := fmt.Sprint(mv.Key.(ast.ScalarNode).GetValue())
				lines[key] = mv.Key.GetToken().Position.Line
			}

			if len(b.entries) != len(doc) {
				t.Errorf("%d entries, YAML has %d", len(b.entries), len(doc))
			}
			for i := range b.entries {
				e := &b.entries[i]
				y, ok := doc[e.key]
				if !ok {
					t.Errorf("entry %q is not in the YAML", e.key)
					continue
				}
				if lines[e.key] != e.line {
					t.Errorf("%s: line %d, YAML says %d", e.key, e.line, lines[e.key])
				}
				if fmt.Sprint(y.Version) != e.version || y.Resolution != e.resolved {
					t.Errorf("%s: version %q resolution %q, YAML has %v %q", e.key, e.version, e.resolved, y.Version, y.Resolution)
				}
				want := make(map[string]string)
				for name, rng := range y.Dependencies {
					opt := ""
					if y.DependenciesMeta[name].Optional {
						opt = " optional"
					}
					want["dep "+name] = fmt.Sprint(rng) + opt
				}
				for name, rng := range y.PeerDependencies {
					want["peer "+name] = fmt.Sprint(rng)
				}
				got := make(map[string]string)
				for _, d := range b.deps[e.depStart:e.depEnd] {
					k, v := "dep "+d.name, d.rng
					if d.peer {
						k = "peer " + d.name
					}
					if d.optional {
						v += " optional"
					}
					got[k] = v
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: dependencies\n got %v\nwant %v", e.key, got, want)
				}
				if strings.Contains(e.key, `"`) {
					t.Errorf("%s: quotes left in key", e.key)
				}
			}
		})
	}
}
