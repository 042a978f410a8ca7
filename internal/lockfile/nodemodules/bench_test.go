package nodemodules

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// BenchmarkRead reads a generated npm-style tree of 1,000 packages (200 of
// them nested) with and without the hidden lockfile, and the real pnpm
// tree of testdata. VIGIL_BENCH_TREE names a real project to add.
func BenchmarkRead(b *testing.B) {
	big := b.TempDir()
	files := map[string]string{}
	rootDeps := ""
	hidden := `{"lockfileVersion": 3, "packages": {`
	for i := range 1000 {
		name := fmt.Sprintf("p%03d", i)
		deps := fmt.Sprintf(`"dependencies": {"p%03d": "1", "p%03d": "1"}`, (i+1)%1000, (i*7)%1000)
		key := "node_modules/" + name
		if i%5 == 4 { // nested under the previous package
			key = fmt.Sprintf("node_modules/p%03d/node_modules/%s", i-1, name)
		} else if rootDeps == "" {
			rootDeps = fmt.Sprintf(`"%s": "1"`, name)
		} else {
			rootDeps += fmt.Sprintf(`, "%s": "1"`, name)
		}
		files[key+"/package.json"] = pj(name, "1.0.0", deps, `"description": "a package of the benchmark tree with a description of typical length"`)
		if i > 0 {
			hidden += ","
		}
		hidden += fmt.Sprintf(`%q: {"version": "1.0.0", "integrity": "sha512-x", %s}`, key, deps)
	}
	files["package.json"] = pj("big", "1.0.0", `"dependencies": {`+rootDeps+`}`)
	build(b, big, files)
	if err := os.WriteFile(big+"/node_modules/.package-lock.json", []byte(hidden+"}}"), 0o644); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, dir string
		hidden    bool
	}{
		{"generated-1000-walk", big, false},
		{"generated-1000-hidden-lockfile", big, true},
		{"pnpm-testdata", "testdata/pnpm-workspaces", false},
	}
	if dir := os.Getenv("VIGIL_BENCH_TREE"); dir != "" {
		cases = append(cases, struct {
			name, dir string
			hidden    bool
		}{"env-walk", dir, false}, struct {
			name, dir string
			hidden    bool
		}{"env-hidden-lockfile", dir, true})
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, used, err := read(context.Background(), bc.dir, bc.hidden)
				if err != nil || used != (bc.hidden && bc.dir != "testdata/pnpm-workspaces") || len(g.Packages) == 0 {
					b.Fatalf("read: %v, hidden lockfile used %v", err, used)
				}
			}
		})
	}
}
