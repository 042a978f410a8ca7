package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

var update = flag.Bool("update", false, "rewrite testdata/**/*.golden")

// fixtures returns every lockfile under testdata.
func fixtures(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if base := d.Name(); base == "package-lock.json" || base == "npm-shrinkwrap.json" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata: %v", err)
	}
	return files
}

func parseFile(t testing.TB, file string) (*lockfile.Graph, []byte) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Reader{}.Parse(context.Background(), file, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", file, err)
	}
	return g, data
}

// dump renders a graph as stable text: one line per importer and package
// with its flags, location and edges (as keys, so indices do not matter).
func dump(g *lockfile.Graph) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format: %s\n", g.Format)
	keys := func(deps []int) string {
		var ks []string
		for _, d := range deps {
			ks = append(ks, g.Packages[d].Key)
		}
		return strings.Join(ks, " ")
	}
	for _, imp := range g.Importers {
		fmt.Fprintf(&b, "importer %q name=%q -> %s\n", imp.Path, imp.Name, keys(imp.Dependencies))
	}
	for _, p := range g.Packages {
		flags := []string{string(p.Source)}
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Direct, "direct"}, {p.Dev, "dev"}, {p.Optional, "optional"}, {p.DevOptional, "devOptional"}, {p.Peer, "peer"}, {p.Bundled, "bundled"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		if p.Alias != "" {
			flags = append(flags, "alias="+p.Alias)
		}
		fmt.Fprintf(&b, "%s %s %s line=%d col=%d\n", p.Key, p.PackageVersion, strings.Join(flags, ","), p.Location.Line, p.Location.Column)
		if len(p.Dependencies) > 0 {
			fmt.Fprintf(&b, "    -> %s\n", keys(p.Dependencies))
		}
	}
	return b.String()
}

// TestGolden pins the whole graph of every fixture. Review a diff with
// care before running with -update.
func TestGolden(t *testing.T) {
	for _, file := range fixtures(t) {
		if strings.Contains(file, "webapp-medium") {
			continue // large; checked against its expected list and by invariants
		}
		t.Run(file, func(t *testing.T) {
			g, _ := parseFile(t, file)
			got := dump(g)
			golden := file + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("graph of %s differs from %s (-want +got):\n%s", file, golden,
					lineDiff(strings.Split(string(want), "\n"), strings.Split(got, "\n")))
			}
		})
	}
}

// TestExpected checks the real trees copied from the shared corpus, so the
// check runs without ../shared.
func TestExpected(t *testing.T) {
	for _, dir := range []string{"testdata/webapp-medium-v1", "testdata/webapp-medium-v3"} {
		t.Run(dir, func(t *testing.T) {
			file := filepath.Join(dir, "package-lock.json")
			checkExpected(t, file, file+".expected.txt")
		})
	}
}

// TestInvariants checks properties every graph must have, on every fixture.
func TestInvariants(t *testing.T) {
	for _, file := range fixtures(t) {
		t.Run(file, func(t *testing.T) {
			g, data := parseFile(t, file)
			checkGraph(t, file, g, data)
		})
	}
}

// checkGraph checks what must hold of any graph parsed from data.
func checkGraph(t *testing.T, file string, g *lockfile.Graph, data []byte) {
	t.Helper()
	lines := strings.Split(string(data), "\n")
	keys := map[string]bool{}
	for i, p := range g.Packages {
		if keys[p.Key] {
			t.Errorf("key %q appears twice", p.Key)
		}
		keys[p.Key] = true
		if p.Name == "" || (p.Version == "" && p.Source != lockfile.SourceLink) {
			t.Errorf("%s: empty name or version: %+v", p.Key, p.PackageVersion)
		}
		// The location must point at the entry's key in the file: the
		// full key in version 2/3, the last name in version 1.
		want := `"` + p.Key + `"`
		if strings.HasSuffix(string(g.Format), "v1") {
			want = `"` + p.Key[strings.LastIndex(p.Key, "node_modules/")+len("node_modules/"):] + `"`
		}
		if p.Location.File != file || p.Location.Line < 1 || p.Location.Line > len(lines) ||
			!strings.HasPrefix(lines[p.Location.Line-1][p.Location.Column-1:], want) {
			t.Errorf("%s: location %+v does not point at %s", p.Key, p.Location, want)
		}
		for _, d := range p.Dependencies {
			if d < 0 || d >= len(g.Packages) {
				t.Fatalf("%s: edge to %d out of range", p.Key, d)
			}
			if d == i {
				t.Errorf("%s depends on itself", p.Key)
			}
		}
		if p.Direct != isDirect(g, i) {
			t.Errorf("%s: Direct=%v but importers say otherwise", p.Key, p.Direct)
		}
	}
	if len(g.Importers) == 0 || g.Importers[0].Path != "" {
		t.Errorf("first importer should be the root, got %+v", g.Importers)
	}
	// Every path leads from an importer to the package.
	pf := g.PathFinder()
	for i := range g.Packages {
		for _, path := range pf.PathsTo(i, 3) {
			if path[len(path)-1] != g.Packages[i].PackageVersion.String() {
				t.Errorf("path %v does not end at %s", path, g.Packages[i].PackageVersion)
			}
		}
	}
}

func isDirect(g *lockfile.Graph, i int) bool {
	for _, imp := range g.Importers {
		if slices.Contains(imp.Dependencies, i) {
			return true
		}
	}
	return false
}

// find returns the package with the given key.
func find(t *testing.T, g *lockfile.Graph, key string) *lockfile.Package {
	t.Helper()
	for i := range g.Packages {
		if g.Packages[i].Key == key {
			return &g.Packages[i]
		}
	}
	t.Fatalf("no package %q in %s", key, g.File)
	return nil
}

// depKeys returns the keys a package depends on, sorted.
func depKeys(g *lockfile.Graph, deps []int) []string {
	var ks []string
	for _, d := range deps {
		ks = append(ks, g.Packages[d].Key)
	}
	slices.Sort(ks)
	return ks
}

// TestWorkspaces spells out what the golden file holds for the workspace
// fixtures, in both lockfile versions.
func TestWorkspaces(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format lockfile.Format
	}{
		{"testdata/workspaces-v3/package-lock.json", lockfile.FormatPackageLockV3},
		{"testdata/workspaces-v2/package-lock.json", lockfile.FormatPackageLockV2},
	} {
		t.Run(tc.file, func(t *testing.T) {
			g, _ := parseFile(t, tc.file)
			if g.Format != tc.format {
				t.Errorf("Format = %q, want %q", g.Format, tc.format)
			}
			var paths []string
			for _, imp := range g.Importers {
				paths = append(paths, imp.Path+"="+imp.Name)
			}
			if want := []string{"=ws-demo", "packages/a=@demo/a", "packages/b=@demo/b", "packages/c=@demo/c"}; !slices.Equal(paths, want) {
				t.Errorf("importers = %q, want %q", paths, want)
			}

			link := find(t, g, "node_modules/@demo/b")
			ws := find(t, g, "packages/b")
			if link.Source != lockfile.SourceLink || ws.Source != lockfile.SourceWorkspace {
				t.Errorf("link source %q, workspace source %q", link.Source, ws.Source)
			}
			if link.Name != "@demo/b" || link.Version != "0.2.0" || ws.Name != "@demo/b" || ws.Version != "0.2.0" {
				t.Errorf("link %v, workspace %v", link.PackageVersion, ws.PackageVersion)
			}
			// packages/a needs @demo/b (through the link, to the folder), its
			// own nested is-number@6 and the hoisted react-dom.
			a := find(t, g, "packages/a")
			if got, want := depKeys(g, a.Dependencies), []string{"node_modules/react-dom", "packages/a/node_modules/is-number", "packages/b"}; !slices.Equal(got, want) {
				t.Errorf("packages/a -> %q, want %q", got, want)
			}
			// The nearest is-number wins: is-odd has its own copy.
			odd := find(t, g, "node_modules/is-odd")
			if got, want := depKeys(g, odd.Dependencies), []string{"node_modules/is-odd/node_modules/is-number"}; !slices.Equal(got, want) {
				t.Errorf("is-odd -> %q, want %q", got, want)
			}
			if !odd.Optional || odd.Dev || !odd.Direct {
				t.Errorf("is-odd flags: %+v", odd)
			}
			if n := find(t, g, "node_modules/is-number"); !n.Dev || !n.Direct {
				t.Errorf("is-number should be a direct dev dependency: %+v", n)
			}
			if r := find(t, g, "node_modules/react"); !r.Peer {
				t.Errorf("react should be a peer: %+v", r)
			}
			x := find(t, g, "node_modules/x")
			if x.Name != "lodash" || x.Alias != "x" || x.Version != "4.17.21" || x.Source != lockfile.SourceRegistry || !x.Direct {
				t.Errorf("alias: %+v", x)
			}
			ms := find(t, g, "node_modules/bund-demo/node_modules/ms")
			if !ms.Bundled || ms.Version != "2.1.3" {
				t.Errorf("bundled ms: %+v", ms)
			}
			if b := find(t, g, "node_modules/bund-demo"); b.Source != lockfile.SourceFile || !slices.Equal(depKeys(g, b.Dependencies), []string{ms.Key}) {
				t.Errorf("bund-demo: %+v", b)
			}
			// The optional peer left-pad of packages/c is not installed: no edge, no error.
			if got, want := depKeys(g, find(t, g, "packages/c").Dependencies), []string{"node_modules/debug"}; !slices.Equal(got, want) {
				t.Errorf("packages/c -> %q, want %q", got, want)
			}
			// A file: folder outside the project is a local package, not a
			// workspace, and does not see the project's node_modules.
			lib := find(t, g, "../locallib")
			if lib.Source != lockfile.SourceFile || lib.Name != "local-lib" || len(lib.Dependencies) != 0 {
				t.Errorf("../locallib: %+v", lib)
			}
			tp := fmt.Sprint(g.ThirdParty())
			for _, own := range []string{"@demo/", "ws-demo"} {
				if strings.Contains(tp, own) {
					t.Errorf("ThirdParty() has the project's own %s: %s", own, tp)
				}
			}
		})
	}
}

func TestSources(t *testing.T) {
	for _, file := range []string{"testdata/handwritten-sources-v3/package-lock.json", "testdata/handwritten-sources-v1/package-lock.json"} {
		t.Run(file, func(t *testing.T) {
			g, _ := parseFile(t, file)
			for _, tc := range []struct {
				key    string
				source lockfile.Source
			}{
				{"node_modules/is-number", lockfile.SourceGit},
				{"node_modules/from-ssh", lockfile.SourceGit},
				{"node_modules/remote-tgz", lockfile.SourceTarball},
				{"node_modules/local-tgz", lockfile.SourceFile},
				{"node_modules/ms", lockfile.SourceRegistry},
				{"node_modules/@my/babel", lockfile.SourceRegistry},
			} {
				if p := find(t, g, tc.key); p.Source != tc.source {
					t.Errorf("%s: source %q, want %q", tc.key, p.Source, tc.source)
				}
			}
			babel := find(t, g, "node_modules/@my/babel")
			if babel.PackageVersion.String() != "@babel/core@7.0.0" || babel.Alias != "@my/babel" {
				t.Errorf("scoped alias: %+v", babel)
			}
			// @babel/core's debug is nested under the alias's folder, and
			// debug's ms is the hoisted one.
			debug := find(t, g, "node_modules/@my/babel/node_modules/debug")
			if got := depKeys(g, babel.Dependencies); !slices.Equal(got, []string{debug.Key}) {
				t.Errorf("alias -> %q", got)
			}
			if got := depKeys(g, debug.Dependencies); !slices.Equal(got, []string{"node_modules/ms"}) {
				t.Errorf("nested debug -> %q", got)
			}
		})
	}
	if got := find(t, mustParse(t, "testdata/mirror.json", `{"lockfileVersion":3,"packages":{"node_modules/m":{"version":"1.0.0","resolved":"https://npm.corp.example.com/artifactory/api/npm/npm/m/-/m-1.0.0.tgz"}}}`), "node_modules/m"); got.Source != lockfile.SourceRegistry {
		t.Errorf("mirror registry URL: source %q", got.Source)
	}
}

func mustParse(t *testing.T, file, data string) *lockfile.Graph {
	t.Helper()
	g, err := Reader{}.Parse(context.Background(), file, []byte(data))
	if err != nil {
		t.Fatalf("Parse(%s): %v", data, err)
	}
	return g
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		file, version string
		want          lockfile.Format
	}{
		{"a/package-lock.json", "1", lockfile.FormatPackageLockV1},
		{"package-lock.json", "2", lockfile.FormatPackageLockV2},
		{"x/node_modules/.package-lock.json", "3", lockfile.FormatPackageLockV3},
		{"npm-shrinkwrap.json", "1", lockfile.FormatShrinkwrapV1},
		{`C:\p\npm-shrinkwrap.json`, "2", lockfile.FormatShrinkwrapV2},
		{"/p/npm-shrinkwrap.json", "3", lockfile.FormatShrinkwrapV3},
	} {
		g := mustParse(t, tc.file, `{"lockfileVersion": `+tc.version+`, "packages": {}, "dependencies": {}}`)
		if g.Format != tc.want {
			t.Errorf("%s v%s: %q, want %q", tc.file, tc.version, g.Format, tc.want)
		}
	}
	r := Reader{}
	if !r.Matches("package-lock.json") || !r.Matches("npm-shrinkwrap.json") || r.Matches(".package-lock.json") || r.Matches("yarn.lock") {
		t.Error("Matches")
	}
}

// TestV1 covers version 1 details the real fixtures also show: the root's
// direct dependencies are inferred and "requires" resolves upwards.
func TestV1(t *testing.T) {
	g := mustParse(t, "package-lock.json", `{
  "name": "p", "lockfileVersion": 1, "requires": true,
  "dependencies": {
    "a": {"version": "1.0.0", "requires": {"b": "^1", "c": "^1"},
      "dependencies": {
        "b": {"version": "1.5.0", "requires": {"c": "^1", "a": "1"}}
      }},
    "b": {"version": "2.0.0", "dev": true},
    "c": {"version": "1.0.0", "optional": true, "requires": {"missing": "1"}}
  }
}`)
	a, nb, b, c := find(t, g, "node_modules/a"), find(t, g, "node_modules/a/node_modules/b"), find(t, g, "node_modules/b"), find(t, g, "node_modules/c")
	if got := depKeys(g, a.Dependencies); !slices.Equal(got, []string{nb.Key, c.Key}) {
		t.Errorf("a -> %q", got)
	}
	if got := depKeys(g, nb.Dependencies); !slices.Equal(got, []string{a.Key, c.Key}) {
		t.Errorf("a/b -> %q", got)
	}
	if got := depKeys(g, g.Importers[0].Dependencies); !slices.Equal(got, []string{b.Key}) {
		t.Errorf("root -> %q (a and c are required by others, b by nobody)", got)
	}
	if !b.Dev || !b.Direct || !c.Optional || c.Direct || a.Direct {
		t.Errorf("flags: a %+v b %+v c %+v", a, b, c)
	}
	if g.Importers[0].Name != "p" {
		t.Errorf("root name %q", g.Importers[0].Name)
	}
}

func TestV2PrefersPackages(t *testing.T) {
	g := mustParse(t, "package-lock.json", `{"lockfileVersion": 2,
  "dependencies": {"old": {"version": "1.0.0"}},
  "packages": {"": {"dependencies": {"new": "1"}}, "node_modules/new": {"version": "2.0.0"}}}`)
	if tp := fmt.Sprint(g.ThirdParty()); tp != "[new@2.0.0]" {
		t.Errorf("ThirdParty() = %s", tp)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"v2 without packages", `{"lockfileVersion": 2, "dependencies": {"old": {"version": "1.0.0"}}}`, "[old@1.0.0]"},
		{"version after the tree", `{"dependencies": {"old": {"version": "1.0.0"}}, "lockfileVersion": 1}`, "[old@1.0.0]"},
		{"version after packages", `{"packages": {"node_modules/new": {"version": "2.0.0"}}, "lockfileVersion": 3}`, "[new@2.0.0]"},
		{"v1 ignores packages", `{"lockfileVersion": 1, "packages": {"node_modules/p": {"version": "9.9.9"}}, "dependencies": {"old": {"version": "1.0.0"}}}`, "[old@1.0.0]"},
		{"last packages wins", `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}}, "packages": {"node_modules/b": {"version": "1.0.0"}}}`, "[b@1.0.0]"},
		{"last version wins", `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}}, "lockfileVersion": 1}`, "[]"},
		{"v3 without packages", `{"lockfileVersion": 3}`, "[]"},
	} {
		g := mustParse(t, "package-lock.json", tc.data)
		if tp := fmt.Sprint(g.ThirdParty()); tp != tc.want {
			t.Errorf("%s: ThirdParty() = %s, want %s", tc.name, tp, tc.want)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	t.Run("duplicate key keeps the last", func(t *testing.T) {
		g := mustParse(t, "p.json", `{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0"},"node_modules/a":{"version":"2.0.0"}}}`)
		if len(g.Packages) != 1 || g.Packages[0].Version != "2.0.0" {
			t.Errorf("%+v", g.Packages)
		}
	})
	t.Run("escaped key", func(t *testing.T) {
		g := mustParse(t, "p.json", `{"lockfileVersion":3,"packages":{"node_modules/\u0061":{"vers\u0069on":"1.0.0"}}}`)
		if g.Packages[0].PackageVersion.String() != "a@1.0.0" {
			t.Errorf("%+v", g.Packages[0])
		}
	})
	t.Run("BOM", func(t *testing.T) {
		mustParse(t, "p.json", "\ufeff{\"lockfileVersion\":3}")
	})
	t.Run("self-dependency and cycle", func(t *testing.T) {
		g := mustParse(t, "p.json", `{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"1"}},
		"node_modules/a":{"version":"1.0.0","dependencies":{"b":"1"}},
		"node_modules/b":{"version":"1.0.0","dependencies":{"a":"1","b":"1"}}}}`)
		b := find(t, g, "node_modules/b")
		// The nearest b from b is b itself: no self-edge.
		if got := depKeys(g, b.Dependencies); !slices.Equal(got, []string{"node_modules/a"}) {
			t.Errorf("b -> %q", got)
		}
		if paths := g.PathsTo(1, 5); len(paths) == 0 || paths[0][0] != "(root)" {
			t.Errorf("paths %v", paths)
		}
	})
	t.Run("link to a missing folder", func(t *testing.T) {
		g := mustParse(t, "p.json", `{"lockfileVersion":3,"packages":{"":{"dependencies":{"w":"*"}},"node_modules/w":{"resolved":"packages/w","link":true}}}`)
		if w := find(t, g, "node_modules/w"); !w.Direct || w.Source != lockfile.SourceLink {
			t.Errorf("%+v", w)
		}
		if len(g.ThirdParty()) != 0 {
			t.Errorf("ThirdParty() = %v", g.ThirdParty())
		}
	})
	t.Run("nested workspace folder", func(t *testing.T) {
		g := mustParse(t, "p.json", `{"lockfileVersion":3,"packages":{
		"":{"workspaces":["apps/*"]},
		"apps/web":{"name":"web","version":"1.0.0","dependencies":{"react":"18","util":"1"}},
		"apps/web/node_modules/react":{"version":"18.0.0"},
		"node_modules/react":{"version":"17.0.0"},
		"node_modules/util":{"version":"1.0.0","dependencies":{"react":"17"}},
		"node_modules/web":{"resolved":"apps/web","link":true}}}`)
		web := find(t, g, "apps/web")
		if got := depKeys(g, web.Dependencies); !slices.Equal(got, []string{"apps/web/node_modules/react", "node_modules/util"}) {
			t.Errorf("web -> %q", got)
		}
		if got := depKeys(g, find(t, g, "node_modules/util").Dependencies); !slices.Equal(got, []string{"node_modules/react"}) {
			t.Errorf("util -> %q", got)
		}
	})
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line, col  int
		msg        string
	}{
		{"empty", ``, 1, 1, "expected '{': a package-lock.json is a JSON object, found end of file"},
		{"array", `[]`, 1, 1, "found an array"},
		{"truncated", "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": \"1", 4, 35, "string is not terminated"},
		{"missing comma", "{\"lockfileVersion\": 3\n \"packages\": {}}", 2, 2, "expected ',' or '}'"},
		{"trailing comma", `{"lockfileVersion": 3,}`, 1, 23, "expected a string key"},
		{"missing colon", `{"lockfileVersion" 3}`, 1, 20, "expected ':'"},
		{"bad literal", `{"lockfileVersion": 3, "x": tru}`, 1, 29, "expected a JSON value"},
		{"bad number", `{"lockfileVersion": 3, "x": 01}`, 1, 30, "expected ',' or '}'"},
		{"bad escape", `{"lockfileVersion": 3, "x": "\q"}`, 1, 30, "invalid escape"},
		{"bad unicode escape", `{"lockfileVersion": 3, "x": "\u12"}`, 1, 30, `hex digits`},
		{"control character", "{\"lockfileVersion\": 3, \"x\": \"a\tb\"}", 1, 31, "control character"},
		{"trailing data", `{"lockfileVersion": 3} {}`, 1, 24, "expected end of file"},
		{"version as string", `{"lockfileVersion": "3"}`, 1, 21, `expected a number for "lockfileVersion", found a string`},
		{"unknown version", `{"lockfileVersion": 4}`, 1, 21, "unsupported lockfileVersion 4"},
		{"no version", `{"packages": {}}`, 0, 0, `no "lockfileVersion"`},
		{"entry not object", `{"lockfileVersion": 3, "packages": {"node_modules/a": "1.0.0"}}`, 1, 55, "expected an object for a package entry, found a string"},
		{"version not string", `{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1}}}`, 1, 67, `expected a string for "version", found a number`},
		{"flag not bool", `{"lockfileVersion": 3, "packages": {"node_modules/a": {"dev": "yes"}}}`, 1, 63, `expected true or false for "dev"`},
		{"deps not object", `{"lockfileVersion": 3, "packages": {"node_modules/a": {"dependencies": ["b"]}}}`, 1, 72, "expected an object of dependency names, found an array"},
		{"empty name", `{"lockfileVersion": 3, "packages": {"node_modules/": {}}}`, 1, 37, "does not end in a package name"},
		{"v1 entry not object", `{"lockfileVersion": 1, "dependencies": {"a": 1}}`, 1, 46, "expected an object for a package entry"},
		{"too deep", `{"lockfileVersion": 3, "x": ` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, 1, 1028, "nested deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reader{}.Parse(context.Background(), "lock.json", []byte(tc.data))
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want a *lockfile.ParseError", err, err)
			}
			if pe.File != "lock.json" || pe.Line != tc.line || pe.Column != tc.col || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %q at %d:%d, want %q at %d:%d", pe.Msg, pe.Line, pe.Column, tc.msg, tc.line, tc.col)
			}
		})
	}
	_, err := Reader{}.Parse(context.Background(), "lock.json", []byte(`{"lockfileVersion": 9}`))
	if !errors.Is(err, lockfile.ErrUnsupported) {
		t.Errorf("unknown version: %v should wrap ErrUnsupported", err)
	}
}

func TestContext(t *testing.T) {
	data, err := os.ReadFile("testdata/webapp-medium-v3/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Reader{}).Parse(ctx, "package-lock.json", data); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestLineDiff(t *testing.T) {
	if d := lineDiff([]string{"a", "b"}, []string{"b", "c"}); d != "-a\n+c\n" {
		t.Errorf("lineDiff = %q", d)
	}
	if d := lineDiff([]string{"a"}, []string{"a"}); d != "" {
		t.Errorf("lineDiff = %q", d)
	}
}

// TestMinified checks a lockfile on one line: same graph, columns right,
// and time linear in the size (positions once cost a scan back to the
// start of the line for every entry).
func TestMinified(t *testing.T) {
	pretty, err := os.ReadFile("testdata/webapp-medium-v3/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, pretty); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	g, err := Reader{}.Parse(context.Background(), "package-lock.json", data)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := parseFile(t, "testdata/webapp-medium-v3/package-lock.json")
	if fmt.Sprint(g.ThirdParty()) != fmt.Sprint(want.ThirdParty()) {
		t.Error("minified and pretty lockfiles differ")
	}
	for _, p := range g.Packages {
		if p.Location.Line != 1 || !bytes.HasPrefix(data[p.Location.Column-1:], []byte(`"`+p.Key+`"`)) {
			t.Fatalf("%s: location %+v", p.Key, p.Location)
		}
	}
}

// TestDoesNotKeepInput checks that a Graph holds no reference into the
// input, which belongs to the caller and may be reused.
func TestDoesNotKeepInput(t *testing.T) {
	for _, file := range fixtures(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Reader{}.Parse(context.Background(), file, data)
		if err != nil {
			t.Fatal(err)
		}
		before := dump(g)
		for i := range data {
			data[i] = 'X'
		}
		if after := dump(g); after != before {
			t.Errorf("%s: the graph changed with the input it was parsed from", file)
		}
	}
}
