package nodemodules

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// seeds returns the package.json files of the real testdata trees.
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "package.json" && d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, data)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	return out
}

// FuzzManifest: any bytes, no panic; what is not JSON is a ParseError.
func FuzzManifest(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"dependencies": ["a"], "peerDependenciesMeta": 1, "bundleDependencies": true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		m.deps(true)
	})
}

// FuzzRead builds a small tree around a fuzzed package.json, a fuzzed
// package name and a fuzzed symlink target, and reads it.
func FuzzRead(f *testing.F) {
	// A few real manifests: every seed builds a tree, which is slow.
	for i, s := range seeds(f) {
		if i%8 == 0 {
			f.Add(s, "a", "../b")
		}
	}
	f.Add([]byte(`{"name":"x","dependencies":{"l":"1","x":"1"}}`), "@s/x", "l")
	f.Add([]byte(`{"name":"x","bundleDependencies":true,"dependencies":{"y":"1"}}`), "x", "x/node_modules/y")
	f.Add([]byte(`{}`), "x", "../..")
	f.Add([]byte(`{}`), "x", "../packages/w")
	f.Fuzz(func(t *testing.T, manifest []byte, name, target string) {
		if !safeName(name) || strings.ContainsRune(target, 0) || len(target) > 200 || target == "" {
			return
		}
		if name == "l" || name == "y" || name == "x" || strings.HasPrefix(name, "x/") {
			return // taken by the fixed part of the tree
		}
		root := t.TempDir()
		files := map[string]string{
			"package.json":                           `{"name":"app","dependencies":{"l":"1","` + jsonEscape(name) + `":"1"},"devDependencies":{"y":"1"}}`,
			"node_modules/" + name + "/package.json": string(manifest),
			"node_modules/l":                         "-> " + target,
			"node_modules/y/package.json":            `{"name":"y","version":"1.0.0","dependencies":{"l":"1"}}`,
			"node_modules/x/node_modules/y/":         "/",
			"packages/w/package.json":                `{"name":"w","version":"1.0.0","dependencies":{"y":"1"}}`,
		}
		build(t, root, files)
		for _, useHidden := range []bool{false, true} {
			g, _, err := read(context.Background(), root, useHidden)
			if err != nil {
				var pe *lockfile.ParseError
				if !errors.As(err, &pe) && !errors.Is(err, lockfile.ErrTooLarge) && !errors.Is(err, errNotRegular) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			keys := map[string]bool{}
			for i, p := range g.Packages {
				if keys[p.Key] {
					t.Fatalf("duplicate key %q", p.Key)
				}
				keys[p.Key] = true
				if strings.HasPrefix(p.Key, "../") && p.Source != lockfile.SourceFile {
					t.Fatalf("%s outside the project has source %s", p.Key, p.Source)
				}
				for _, d := range p.Dependencies {
					if d < 0 || d >= len(g.Packages) || d == i {
						t.Fatalf("%s: bad edge %d", p.Key, d)
					}
				}
			}
			for i := range g.Packages {
				g.PathsTo(i, 2)
			}
		}
	})
}

// safeName accepts package-like names that stay inside node_modules.
func safeName(name string) bool {
	if name == "" || len(name) > 50 || strings.HasPrefix(name, ".") {
		return false
	}
	parts := strings.Split(name, "/")
	if len(parts) > 2 || (len(parts) == 2 && !strings.HasPrefix(parts[0], "@")) {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || p == "@" {
			return false
		}
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("@/-_.", c)) {
			return false
		}
	}
	return true
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
