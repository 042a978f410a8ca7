package nodemodules

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/npmlock"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// build creates files under root: a value "-> target" makes a symlink, a
// value ending in "/" a folder, anything else a file with that content.
func build(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for path, content := range files {
		full := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(content, "-> "):
			err = os.Symlink(filepath.FromSlash(content[3:]), full)
		case strings.HasSuffix(content, "/"):
			err = os.MkdirAll(full, 0o755)
		default:
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies a testdata tree, symlinks as symlinks, and dates every
// folder an hour back: git does not keep modification times, and npm's
// hidden lockfile is trusted only when it is the newest thing in the tree.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	past := time.Now().Add(-time.Hour)
	var dirs []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.IsDir():
			dirs = append(dirs, to)
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.Chtimes(d, past, past); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func dump(g *lockfile.Graph, base string) string {
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
		loc, _ := filepath.Rel(base, p.Location.File)
		fmt.Fprintf(&b, "%s %s %s %s\n", p.Key, p.PackageVersion, strings.Join(flags, ","), filepath.ToSlash(loc))
		if len(p.Dependencies) > 0 {
			fmt.Fprintf(&b, "    -> %s\n", keys(p.Dependencies))
		}
	}
	return b.String()
}

func thirdParty(g *lockfile.Graph) []string {
	var out []string
	for _, pv := range g.ThirdParty() {
		out = append(out, pv.String())
	}
	return out
}

// TestRealTrees reads trees installed by real npm 11 and pnpm 10 (only
// their package.json files and symlinks were kept), both by walking and,
// for npm, through its hidden lockfile, and checks the two agree.
func TestRealTrees(t *testing.T) {
	for _, tc := range []struct {
		dir        string
		wantHidden bool
	}{
		{"testdata/npm-workspaces", true},
		{"testdata/pnpm-workspaces", false},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			tree := copyTree(t, tc.dir)
			walked, used, err := read(context.Background(), tree, false)
			if err != nil || used {
				t.Fatalf("read: %v (hidden lockfile used: %v)", err, used)
			}
			got := dump(walked, tree)
			golden := filepath.Join(tc.dir + ".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want, err := os.ReadFile(golden); err != nil || string(want) != got {
				t.Errorf("walked graph differs from %s (run with -update after checking):\n%s", golden, got)
			}

			g, used, err := read(context.Background(), tree, true)
			if err != nil || used != tc.wantHidden {
				t.Fatalf("Read: %v, hidden lockfile used %v, want %v", err, used, tc.wantHidden)
			}
			// The hidden lockfile adds integrity hashes the installed
			// package.json files do not carry; all else must agree.
			for i := range g.Packages {
				g.Packages[i].Integrity = ""
			}
			if fast := dump(g, tree); fast != got {
				t.Errorf("hidden lockfile and walk disagree:\nwalk:\n%s\nhidden lockfile:\n%s", got, fast)
			}
		})
	}
}

// TestAgainstLockfiles compares the installed set with what the package
// manager's own lockfile for the same install says.
func TestAgainstLockfiles(t *testing.T) {
	t.Run("npm", func(t *testing.T) {
		data, err := os.ReadFile("testdata/npm-workspaces/package-lock.json")
		if err != nil {
			t.Fatal(err)
		}
		lock, err := npmlock.Reader{}.Parse(context.Background(), "package-lock.json", data)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Read(context.Background(), "testdata/npm-workspaces")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := thirdParty(g), thirdParty(lock); !slices.Equal(got, want) {
			t.Errorf("ThirdParty() = %v, lockfile says %v", got, want)
		}
	})
	t.Run("pnpm", func(t *testing.T) {
		// expected.txt is the packages: section of pnpm-lock.yaml.
		want, err := os.ReadFile("testdata/pnpm-workspaces/expected.txt")
		if err != nil {
			t.Fatal(err)
		}
		g, err := Read(context.Background(), "testdata/pnpm-workspaces/node_modules")
		if err != nil {
			t.Fatal(err)
		}
		if got := thirdParty(g); !slices.Equal(got, strings.Fields(string(want))) {
			t.Errorf("ThirdParty() = %v\nwant %s", got, want)
		}
	})
}

func find(t *testing.T, g *lockfile.Graph, key string) *lockfile.Package {
	t.Helper()
	for i := range g.Packages {
		if g.Packages[i].Key == key {
			return &g.Packages[i]
		}
	}
	t.Fatalf("no package %q; have:\n%s", key, dump(g, ""))
	return nil
}

func depKeys(g *lockfile.Graph, deps []int) []string {
	var out []string
	for _, d := range deps {
		out = append(out, g.Packages[d].Key)
	}
	slices.Sort(out)
	return out
}

func pj(name, version string, extra ...string) string {
	s := fmt.Sprintf(`{"name": %q, "version": %q`, name, version)
	for _, e := range extra {
		s += ", " + e
	}
	return s + "}"
}

func TestNested(t *testing.T) {
	root := t.TempDir()
	build(t, root, map[string]string{
		"package.json": pj("app", "1.0.0",
			`"dependencies": {"a": "1", "@s/b": "1", "alias": "npm:real@1", "gone": "1"}`,
			`"devDependencies": {"d": "1", "a": "1"}`,
			`"optionalDependencies": {"o": "1"}`),
		"node_modules/a/package.json":                                  pj("a", "1.0.0", `"dependencies": {"c": "1"}`, `"peerDependencies": {"p": "1", "q": "1"}`, `"peerDependenciesMeta": {"q": {"optional": true}}`),
		"node_modules/a/node_modules/c/package.json":                   pj("c", "2.0.0", `"dependencies": {"a": "1"}`),
		"node_modules/c/package.json":                                  pj("c", "1.0.0"),
		"node_modules/@s/b/package.json":                               pj("@s/b", "1.0.0", `"dependencies": {"c": "1"}`, `"bundleDependencies": ["x"]`),
		"node_modules/@s/b/node_modules/x/package.json":                pj("x", "1.0.0", `"dependencies": {"y": "1"}`),
		"node_modules/@s/b/node_modules/y/package.json":                pj("y", "1.0.0"),
		"node_modules/@s/b/node_modules/x/node_modules/z/package.json": pj("z", "1.0.0"),
		"node_modules/alias/package.json":                              pj("real", "1.0.0"),
		"node_modules/d/package.json":                                  pj("d", "1.0.0", `"dependencies": {"e": "1"}`),
		"node_modules/e/package.json":                                  pj("e", "1.0.0"),
		"node_modules/o/package.json":                                  pj("o", "1.0.0", `"dependencies": {"e": "1"}`),
		"node_modules/p/package.json":                                  pj("p", "1.0.0"),
		"node_modules/stray/package.json":                              pj("stray", "1.0.0"),
		"node_modules/empty-leftover/":                                 "/",
		"node_modules/.bin/a":                                          "-> ../a/index.js",
		"node_modules/.yarn-integrity":                                 "{}",
		"node_modules/.cache/x/package.json":                           pj("cached", "1.0.0"),
		"node_modules/old6/package.json":                               pj("old6", "1.0.0", `"_resolved": "https://cdn.example.com/old6.tgz"`, `"_integrity": "sha512-AAAA"`),
	})
	g, err := Read(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if g.Format != lockfile.FormatNodeModules || g.File != filepath.Join(root, "node_modules") {
		t.Errorf("Format %q File %q", g.Format, g.File)
	}
	if got, want := depKeys(g, g.Importers[0].Dependencies), []string{"node_modules/@s/b", "node_modules/a", "node_modules/alias", "node_modules/d", "node_modules/o"}; !slices.Equal(got, want) {
		t.Errorf("root -> %q, want %q", got, want)
	}
	a := find(t, g, "node_modules/a")
	if got, want := depKeys(g, a.Dependencies), []string{"node_modules/a/node_modules/c", "node_modules/p"}; !slices.Equal(got, want) {
		t.Errorf("a -> %q, want %q (nearest c; optional peer q missing)", got, want)
	}
	// The nested c requires a, found two levels up: Node.js skips the
	// node_modules folders themselves.
	if got := depKeys(g, find(t, g, "node_modules/a/node_modules/c").Dependencies); !slices.Equal(got, []string{"node_modules/a"}) {
		t.Errorf("a/c -> %q", got)
	}
	if a.Dev || a.Optional || !a.Direct {
		t.Errorf("a is a production dependency (also listed as dev): %+v", a)
	}
	for key, want := range map[string]string{
		"node_modules/d":     "dev",
		"node_modules/e":     "devOptional", // reached only through the dev d and the optional o
		"node_modules/o":     "optional",
		"node_modules/p":     "peer",
		"node_modules/c":     "",
		"node_modules/stray": "", // installed but unreached: no flags
	} {
		p := find(t, g, key)
		var got []string
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Dev, "dev"}, {p.Optional, "optional"}, {p.DevOptional, "devOptional"}, {p.Peer, "peer"}} {
			if f.on {
				got = append(got, f.name)
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s flags %v, want %q", key, got, want)
		}
	}
	alias := find(t, g, "node_modules/alias")
	if alias.Name != "real" || alias.Alias != "alias" || alias.Location.File != filepath.Join(root, "node_modules", "alias", "package.json") {
		t.Errorf("alias: %+v", alias)
	}
	// x is bundled by @s/b; y and z come inside the same tarball because x
	// needs them.
	for _, key := range []string{"node_modules/@s/b/node_modules/x", "node_modules/@s/b/node_modules/y", "node_modules/@s/b/node_modules/x/node_modules/z"} {
		if p := find(t, g, key); !p.Bundled && key != "node_modules/@s/b/node_modules/x/node_modules/z" {
			t.Errorf("%s should be bundled", key)
		}
	}
	if find(t, g, "node_modules/@s/b").Bundled || find(t, g, "node_modules/c").Bundled {
		t.Error("only what @s/b ships is bundled")
	}
	old := find(t, g, "node_modules/old6")
	if old.Source != lockfile.SourceTarball || old.Integrity != "sha512-AAAA" {
		t.Errorf("npm 6 _resolved: %+v", old)
	}
	for _, p := range g.Packages {
		if strings.Contains(p.Key, ".cache") || strings.Contains(p.Key, "empty-leftover") || strings.Contains(p.Key, ".bin") {
			t.Errorf("read %s", p.Key)
		}
	}
}

func TestSymlinks(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "project")
	build(t, base, map[string]string{
		"project/package.json":                              pj("app", "1.0.0", `"dependencies": {"a": "1", "ext": "1", "w": "1"}`),
		"project/node_modules/a/package.json":               pj("a", "1.0.0", `"dependencies": {"self": "1", "up": "1"}`),
		"project/node_modules/a/node_modules/self":          "-> ../../a",  // a cycle back to a
		"project/node_modules/a/node_modules/up":            "-> ../../..", // the project itself
		"project/node_modules/loop1":                        "-> loop2",    // a symlink loop
		"project/node_modules/loop2":                        "-> loop1",
		"project/node_modules/dangling":                     "-> ../nowhere",
		"project/node_modules/ext":                          "-> ../../outside/ext", // a folder outside the project
		"project/node_modules/w":                            "-> ../packages/w",     // a workspace
		"project/node_modules/@scope":                       "-> ../scopes/s",       // a symlinked scope folder
		"project/scopes/s/p/package.json":                   pj("@scope/p", "1.0.0"),
		"project/packages/w/package.json":                   pj("w", "0.1.0", `"dependencies": {"a": "1"}`, `"devDependencies": {"wdev": "1"}`),
		"project/packages/w/node_modules/wdev/package.json": pj("wdev", "1.0.0"),
		"outside/ext/package.json":                          pj("ext", "3.0.0", `"dependencies": {"hidden": "1"}`),
		"outside/ext/node_modules/hidden/package.json":      pj("hidden", "1.0.0"),
	})
	g, err := Read(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range g.Packages {
		keys = append(keys, p.Key+"="+string(p.Source))
	}
	want := []string{
		"../outside/ext=file",
		"node_modules/a=registry",
		"node_modules/ext=link",
		"node_modules/w=link",
		"packages/w=workspace",
		"packages/w/node_modules/wdev=registry",
		"scopes/s/p=registry", // found through the symlinked scope, keyed by where it is
	}
	if !slices.Equal(keys, want) {
		t.Errorf("packages %q\nwant %q", keys, want)
	}
	if a := find(t, g, "node_modules/a"); len(a.Dependencies) != 0 {
		t.Errorf("a -> %v: a link to itself or to the project is no edge", depKeys(g, a.Dependencies))
	}
	if got := depKeys(g, g.Importers[0].Dependencies); !slices.Equal(got, []string{"../outside/ext", "node_modules/a", "packages/w"}) {
		t.Errorf("root -> %q (links resolve to their folders)", got)
	}
	if len(g.Importers) != 2 || g.Importers[1].Path != "packages/w" || g.Importers[1].Name != "w" {
		t.Fatalf("importers %+v", g.Importers)
	}
	if got := depKeys(g, g.Importers[1].Dependencies); !slices.Equal(got, []string{"node_modules/a", "packages/w/node_modules/wdev"}) {
		t.Errorf("workspace -> %q", got)
	}
	if p := find(t, g, "packages/w/node_modules/wdev"); !p.Dev {
		t.Errorf("a workspace's devDependencies are dev: %+v", p)
	}
	if tp := fmt.Sprint(g.ThirdParty()); tp != "[@scope/p@1.0.0 a@1.0.0 ext@3.0.0 wdev@1.0.0]" {
		t.Errorf("ThirdParty() = %s", tp)
	}
}

// TestPnpmSynthetic builds pnpm's layout by hand, with a peer-dependency
// variant folder name and a package only the hoisted .pnpm/node_modules
// provides; bun's isolated layout is the same under .bun.
func TestPnpmSynthetic(t *testing.T) {
	for _, store := range []string{".pnpm", ".bun"} {
		t.Run(store, func(t *testing.T) { testStore(t, store) })
	}
}

func testStore(t *testing.T, store string) {
	root := t.TempDir()
	files := map[string]string{
		"package.json":           pj("app", "1.0.0", `"dependencies": {"react-dom": "18"}`),
		"node_modules/react-dom": "-> .pnpm/react-dom@18.3.1_react@18.3.1/node_modules/react-dom",
		"node_modules/.pnpm/react-dom@18.3.1_react@18.3.1/node_modules/react-dom/package.json": pj("react-dom", "18.3.1", `"dependencies": {"scheduler": "0", "loose-envify": "1"}`, `"peerDependencies": {"react": "18"}`),
		"node_modules/.pnpm/react-dom@18.3.1_react@18.3.1/node_modules/react":                  "-> ../../react@18.3.1/node_modules/react",
		"node_modules/.pnpm/react-dom@18.3.1_react@18.3.1/node_modules/scheduler":              "-> ../../scheduler@0.23.2/node_modules/scheduler",
		"node_modules/.pnpm/react@18.3.1/node_modules/react/package.json":                      pj("react", "18.3.1"),
		"node_modules/.pnpm/scheduler@0.23.2/node_modules/scheduler/package.json":              pj("scheduler", "0.23.2"),
		"node_modules/.pnpm/loose-envify@1.4.0/node_modules/loose-envify/package.json":         pj("loose-envify", "1.4.0"),
		"node_modules/.pnpm/node_modules/loose-envify":                                         "-> ../loose-envify@1.4.0/node_modules/loose-envify",
		"node_modules/.pnpm/lock.yaml":                                                         "lockfileVersion: '9.0'",
		"node_modules/.modules.yaml":                                                           "{}",
	}
	// Mutating a map while ranging over it may revisit keys: rebuild it.
	renamed := map[string]string{}
	for path, content := range files {
		renamed[strings.ReplaceAll(path, ".pnpm", store)] = strings.ReplaceAll(content, ".pnpm", store)
	}
	build(t, root, renamed)
	g, err := Read(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	rd := find(t, g, "node_modules/"+store+"/react-dom@18.3.1_react@18.3.1/node_modules/react-dom")
	want := []string{
		"node_modules/" + store + "/loose-envify@1.4.0/node_modules/loose-envify",
		"node_modules/" + store + "/react@18.3.1/node_modules/react",
		"node_modules/" + store + "/scheduler@0.23.2/node_modules/scheduler",
	}
	if got := depKeys(g, rd.Dependencies); !slices.Equal(got, want) {
		t.Errorf("react-dom -> %q\nwant %q", got, want)
	}
	if !rd.Direct || find(t, g, want[1]).Peer != true {
		t.Errorf("react-dom direct %v; react peer", rd.Direct)
	}
	if tp := fmt.Sprint(g.ThirdParty()); tp != "[loose-envify@1.4.0 react@18.3.1 react-dom@18.3.1 scheduler@0.23.2]" {
		t.Errorf("ThirdParty() = %s", tp)
	}
}

func TestHiddenLockfileVerified(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, tree string)
		extra  string // a package the result must have
	}{
		{"trusted", func(*testing.T, string) {}, ""},
		{"folder newer than the lockfile", func(t *testing.T, tree string) {
			future := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(tree, "node_modules", "is-odd"), future, future); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"package not listed", func(t *testing.T, tree string) {
			build(t, tree, map[string]string{"node_modules/is-odd/node_modules/sneaky/package.json": pj("sneaky", "6.6.6")})
			past := time.Now().Add(-time.Hour)
			for _, d := range []string{"node_modules/is-odd/node_modules/sneaky", "node_modules/is-odd/node_modules"} {
				if err := os.Chtimes(filepath.Join(tree, d), past, past); err != nil {
					t.Fatal(err)
				}
			}
		}, "sneaky@6.6.6"},
		{"listed package missing", func(t *testing.T, tree string) {
			if err := os.RemoveAll(filepath.Join(tree, "node_modules", "is-odd", "node_modules")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"broken hidden lockfile", func(t *testing.T, tree string) {
			build(t, tree, map[string]string{"node_modules/.package-lock.json": `{"lockfileVersion": 3, "packages": {`})
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := copyTree(t, "testdata/npm-workspaces")
			tc.change(t, tree)
			g, used, err := read(context.Background(), tree, true)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.name == "trusted"; used != want {
				t.Errorf("hidden lockfile used: %v, want %v", used, want)
			}
			if tc.extra != "" && !strings.Contains(fmt.Sprint(g.ThirdParty()), tc.extra) {
				t.Errorf("ThirdParty() = %v lacks %s", g.ThirdParty(), tc.extra)
			}
			if tc.name == "listed package missing" && strings.Contains(fmt.Sprint(g.ThirdParty()), "is-number@6.0.0") {
				t.Errorf("removed package still reported")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("no node_modules", func(t *testing.T) {
		if _, err := Read(context.Background(), t.TempDir()); !errors.Is(err, ErrNoNodeModules) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("malformed package.json", func(t *testing.T) {
		root := t.TempDir()
		build(t, root, map[string]string{"node_modules/a/package.json": "{\n  \"name\": \"a\",\n  \"version\" \"1\"\n}"})
		_, err := Read(context.Background(), root)
		var pe *lockfile.ParseError
		if !errors.As(err, &pe) || pe.File != filepath.Join(root, "node_modules", "a", "package.json") || pe.Line != 3 || pe.Column != 13 {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("oversized package.json", func(t *testing.T) {
		root := t.TempDir()
		build(t, root, map[string]string{"node_modules/a/package.json": `{"name":"a","x":"` + strings.Repeat("x", maxManifestSize) + `"}`})
		if _, err := Read(context.Background(), root); !errors.Is(err, lockfile.ErrTooLarge) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too deep", func(t *testing.T) {
		root := t.TempDir()
		files := map[string]string{}
		path := "node_modules/a"
		for range maxDepth + 2 {
			files[path+"/package.json"] = pj("a", "1.0.0")
			path += "/node_modules/a"
		}
		build(t, root, files)
		if _, err := Read(context.Background(), root); !errors.Is(err, lockfile.ErrTooLarge) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Read(ctx, "testdata/pnpm-workspaces"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("lenient fields", func(t *testing.T) {
		root := t.TempDir()
		build(t, root, map[string]string{
			"package.json":                pj("app", "1", `"dependencies": {"a": "1"}`),
			"node_modules/a/package.json": `{"name": 5, "version": "1.0.0", "dependencies": ["b"], "bundleDependencies": false, "Name": "evil"}`,
		})
		g, err := Read(context.Background(), root)
		if err != nil {
			t.Fatal(err)
		}
		if a := find(t, g, "node_modules/a"); a.Name != "a" || a.Version != "1.0.0" || len(a.Dependencies) != 0 {
			t.Errorf("a: %+v", a)
		}
	})
}
