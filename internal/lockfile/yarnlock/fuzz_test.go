package yarnlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, must fail
// only with a *lockfile.ParseError, and must return a graph whose indices
// are all in range, which AttachManifests and PathsTo can then use.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixture", "*", "yarn.lock"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{v1Sample, berrySample, "", "__metadata:\n  version: 8\n", "a@^1:\n  version \"1\"\n"} {
		f.Add([]byte(s))
	}
	manifests := map[string][]byte{
		"package.json":              []byte(`{"name":"fixture-root","dependencies":{"debug":"^4.3.0","a":"^1"},"devDependencies":{"ms":"2.1.2"},"optionalDependencies":{"is-odd":"^3.0.1"}}`),
		"packages/web/package.json": []byte(`{"name":"@fx/web","dependencies":{"string-width":"^4.2.3"}}`),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Reader{}.Parse(context.Background(), "yarn.lock", data)
		if err != nil {
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *lockfile.ParseError", err, err)
			}
			if pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		check := func() {
			keys := make(map[string]bool, len(g.Packages))
			for i, p := range g.Packages {
				if p.Name == "" || keys[p.Key] {
					t.Fatalf("package %d: empty name or duplicate key %q", i, p.Key)
				}
				keys[p.Key] = true
				for _, d := range p.Dependencies {
					if d < 0 || d >= len(g.Packages) {
						t.Fatalf("package %d: dependency %d out of range", i, d)
					}
				}
			}
			for _, imp := range g.Importers {
				for _, d := range imp.Dependencies {
					if d < 0 || d >= len(g.Packages) {
						t.Fatalf("importer %q: dependency %d out of range", imp.Path, d)
					}
				}
			}
		}
		check()
		_ = g.ThirdParty()
		if err := AttachManifests(g, manifests); err != nil {
			t.Fatal(err)
		}
		check()
		pf := g.PathFinder()
		for i := range g.Packages {
			_ = pf.PathsTo(i, 2)
		}
	})
}
