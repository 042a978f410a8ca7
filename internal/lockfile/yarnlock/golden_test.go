package yarnlock

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render writes every field of g, one package per line, so that a golden
// file shows any change in what the reader produces.
func render(g *lockfile.Graph) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "format %s\n", g.Format)
	for _, imp := range g.Importers {
		fmt.Fprintf(&sb, "importer %q at %q ->%s\n", imp.Name, imp.Path, renderDeps(g, imp.Dependencies))
	}
	for _, p := range g.Packages {
		var fl []string
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Direct, "direct"}, {p.Dev, "dev"}, {p.Optional, "optional"}, {p.DevOptional, "devOptional"}, {p.Peer, "peer"}, {p.Bundled, "bundled"}} {
			if f.on {
				fl = append(fl, f.name)
			}
		}
		fmt.Fprintf(&sb, "\n%s (line %d col %d)\n  key %q\n  source %s alias %q flags %v\n  resolved %q\n  integrity %q\n  deps%s\n",
			p.PackageVersion, p.Location.Line, p.Location.Column, p.Key, p.Source, p.Alias, fl, p.Resolved, p.Integrity, renderDeps(g, p.Dependencies))
	}
	return sb.String()
}

func renderDeps(g *lockfile.Graph, deps []int) string {
	var sb strings.Builder
	for _, d := range deps {
		sb.WriteString(" " + g.Packages[d].String())
	}
	return sb.String()
}

// TestGolden compares the graph of each fixture, with its manifests
// attached, to testdata/fixture/<dialect>/graph.golden (go test -update
// rewrites them).
func TestGolden(t *testing.T) {
	locks, _ := filepath.Glob(filepath.Join("testdata", "fixture", "*", "yarn.lock"))
	if len(locks) == 0 {
		t.Fatal("no fixtures")
	}
	for _, lock := range locks {
		dir := filepath.Dir(lock)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := parseFile(t, filepath.Join(dir, "yarn.lock"))
			if err := AttachManifests(g, readManifests(t, dir)); err != nil {
				t.Fatal(err)
			}
			got := render(g)
			golden := filepath.Join(dir, "graph.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("graph differs from %s (go test -update rewrites it); got:\n%s", golden, got)
			}
		})
	}
}
