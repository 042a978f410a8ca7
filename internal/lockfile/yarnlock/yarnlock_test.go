package yarnlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

func parse(t *testing.T, text string) *lockfile.Graph {
	t.Helper()
	g, err := Reader{}.Parse(context.Background(), "yarn.lock", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return g
}

// find returns the packages named name (all versions) in g.
func find(g *lockfile.Graph, name string) []*lockfile.Package {
	var out []*lockfile.Package
	for i := range g.Packages {
		if g.Packages[i].Name == name {
			out = append(out, &g.Packages[i])
		}
	}
	return out
}

// one returns the single package name@version and fails if there is not
// exactly one.
func one(t *testing.T, g *lockfile.Graph, name, version string) *lockfile.Package {
	t.Helper()
	var found *lockfile.Package
	for i := range g.Packages {
		p := &g.Packages[i]
		if p.Name == name && p.Version == version {
			if found != nil {
				t.Fatalf("%s@%s: more than one package (keys %q and %q)", name, version, found.Key, p.Key)
			}
			found = p
		}
	}
	if found == nil {
		t.Fatalf("%s@%s: no such package", name, version)
	}
	return found
}

func depNames(g *lockfile.Graph, deps []int) []string {
	var out []string
	for _, d := range deps {
		out = append(out, g.Packages[d].String())
	}
	slices.Sort(out)
	return out
}

// lineOf returns the 1-based line of the first line of text equal to want.
func lineOf(t *testing.T, text, want string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if l == want {
			return i + 1
		}
	}
	t.Fatalf("no line %q", want)
	return 0
}

func TestReader(t *testing.T) {
	r := Reader{}
	if r.Name() != "yarn" {
		t.Errorf("Name = %q", r.Name())
	}
	for base, want := range map[string]bool{"yarn.lock": true, "package-lock.json": false, "yarn.lock.bak": false, "Yarn.lock": false} {
		if got := r.Matches(base); got != want {
			t.Errorf("Matches(%q) = %v, want %v", base, got, want)
		}
	}
}

// The fixtures were written by real yarn 1.22, 2.4, 3.8 and 4.18 for the
// same workspace project (see testdata/fixture/README.md). What each
// should hold was checked by hand against the lockfiles.
var fixtureThirdParty = []string{
	"ansi-regex@5.0.1", "debug@4.4.3", "emoji-regex@8.0.0", "is-buffer@1.1.6", "is-even@1.0.0",
	"is-fullwidth-code-point@3.0.0", "is-number@3.0.0", "is-number@6.0.0", "is-number@7.0.0", "is-odd@0.1.2",
	"is-odd@3.0.1", "kind-of@3.2.2", "local-lib@0.0.1", "ms@2.1.2", "ms@2.1.3", "string-width@4.2.3",
	"strip-ansi@6.0.1", "tiny-git@1.0.0", "typescript@TS",
}

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir       string
		format    lockfile.Format
		ts        string
		tsSource  lockfile.Source
		importers []string // name@path of the importers Parse finds
	}{
		{"yarn-v1", lockfile.FormatYarnV1, "5.4.5", lockfile.SourceRegistry, nil},
		{"berry-v4", lockfile.FormatYarnBerry, "4.1.6", lockfile.SourcePatch, []string{"fixture-root@.", "@fx/util@packages/util", "@fx/web@packages/web"}},
		{"berry-v6", lockfile.FormatYarnBerry, "4.9.5", lockfile.SourcePatch, []string{"fixture-root@.", "@fx/util@packages/util", "@fx/web@packages/web"}},
		{"berry-v10", lockfile.FormatYarnBerry, "5.4.5", lockfile.SourcePatch, []string{"fixture-root@.", "@fx/util@packages/util", "@fx/web@packages/web"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			file := filepath.Join("testdata", "fixture", tc.dir, "yarn.lock")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			g := parseFile(t, file)
			berry := tc.format == lockfile.FormatYarnBerry
			if g.Format != tc.format {
				t.Errorf("Format = %q, want %q", g.Format, tc.format)
			}
			var got []string
			for _, pv := range g.ThirdParty() {
				got = append(got, pv.String())
			}
			var want []string
			for _, w := range fixtureThirdParty {
				want = append(want, strings.Replace(w, "@TS", "@"+tc.ts, 1))
			}
			if !slices.Equal(got, want) {
				t.Errorf("ThirdParty:\n got %v\nwant %v", got, want)
			}
			var imps []string
			for _, imp := range g.Importers {
				imps = append(imps, imp.Name+"@"+imp.Path)
			}
			if !slices.Equal(imps, tc.importers) {
				t.Errorf("importers = %v, want %v", imps, tc.importers)
			}

			// The patched typescript is the one package for it.
			if ts := find(g, "typescript"); len(ts) != 1 || ts[0].Source != tc.tsSource || ts[0].Version != tc.ts {
				t.Errorf("typescript: want one %s package, got %d: %+v", tc.tsSource, len(ts), ts)
			}

			// An alias keeps the real name.
			var alias *lockfile.Package
			for i := range g.Packages {
				if g.Packages[i].Alias == "string-width-cjs" {
					alias = &g.Packages[i]
				}
			}
			if alias == nil || alias.Name != "string-width" || alias.Version != "4.2.3" || alias.Source != lockfile.SourceRegistry {
				t.Errorf("alias string-width-cjs: %+v", alias)
			}

			// Edges and locations.
			debug := one(t, g, "debug", "4.4.3")
			if d := depNames(g, debug.Dependencies); !slices.Equal(d, []string{"ms@2.1.3"}) {
				t.Errorf("debug dependencies = %v", d)
			}
			header := "debug@^4.1.0, debug@^4.3.0:"
			if berry {
				header = `"debug@npm:^4.1.0, debug@npm:^4.3.0":`
			}
			if want := (lockfile.Location{File: file, Line: lineOf(t, text, header), Column: 1}); debug.Location != want {
				t.Errorf("debug Location = %+v, want %+v", debug.Location, want)
			}
			if want := strings.TrimSuffix(strings.ReplaceAll(header, `"`, ""), ":"); debug.Key != want {
				t.Errorf("debug Key = %q, want %q", debug.Key, want)
			}

			git := one(t, g, "tiny-git", "1.0.0")
			if git.Source != lockfile.SourceGit || git.Integrity != "" || !strings.Contains(git.Resolved, "47a1f2e30f59c42d4ddc0e456e83b20f45a1fa50") {
				t.Errorf("tiny-git: %+v", git)
			}
			local := one(t, g, "local-lib", "0.0.1")
			if local.Source != lockfile.SourceFile || !strings.Contains(local.Resolved, "file:./local-lib") {
				t.Errorf("local-lib: %+v", local)
			}
			if d := depNames(g, local.Dependencies); !slices.Equal(d, []string{"is-number@7.0.0"}) {
				t.Errorf("local-lib dependencies = %v", d)
			}

			if !berry {
				if debug.Integrity != "sha512-RGwwWnwQvkVfavKVt22FGLw+xYSdzARwm0ru6DhTVA3umU5hZc28V3kO4stgYryrTlLpuvgI9GiijltAjNbcqA==" {
					t.Errorf("debug Integrity = %q", debug.Integrity)
				}
				// The tarball-URL dependency shares the registry entry; it
				// only has the sha1 in its URL.
				isNum := one(t, g, "is-number", "7.0.0")
				if isNum.Integrity != "7535345b896734d5f80c4d06c50955527a14f12b" || isNum.Source != lockfile.SourceRegistry {
					t.Errorf("is-number@7.0.0: %+v", isNum)
				}
				return
			}

			if debug.Integrity != "" {
				t.Errorf("berry Integrity = %q, want none (see berryPackage)", debug.Integrity)
			}
			var tarball, registry int
			for _, p := range find(g, "is-number") {
				if p.Version == "7.0.0" {
					switch p.Source {
					case lockfile.SourceTarball:
						tarball++
					case lockfile.SourceRegistry:
						registry++
					}
				}
			}
			if tarball != 1 || registry != 1 {
				t.Errorf("is-number@7.0.0: %d tarball and %d registry packages, want 1 and 1", tarball, registry)
			}
			for _, name := range []string{"linked-thing", "portal-lib"} {
				if ps := find(g, name); len(ps) != 1 || ps[0].Source != lockfile.SourceLink {
					t.Errorf("%s: %+v", name, ps)
				}
			}
			root := g.Importers[0]
			wantRoot := []string{
				"debug@4.4.3", "is-number@7.0.0", "is-odd@3.0.1", "linked-thing@0.0.0-use.local", "local-lib@0.0.1",
				"ms@2.1.2", "portal-lib@0.0.0-use.local", "string-width@4.2.3", "tiny-git@1.0.0", "typescript@" + tc.ts,
			}
			if d := depNames(g, root.Dependencies); !slices.Equal(d, wantRoot) {
				t.Errorf("root importer dependencies:\n got %v\nwant %v", d, wantRoot)
			}
			// Workspaces are packages too, so that one can depend on another.
			web := g.Importers[2]
			if d := depNames(g, web.Dependencies); !slices.Contains(d, "@fx/util@0.0.0-use.local") {
				t.Errorf("@fx/web dependencies = %v, want @fx/util among them", d)
			}
			for _, p := range find(g, "@fx/util") {
				if p.Source != lockfile.SourceWorkspace {
					t.Errorf("@fx/util Source = %q", p.Source)
				}
			}
			// Root's optionalDependencies are optional, and so is what
			// only they bring in.
			for _, pv := range [][2]string{{"is-odd", "3.0.1"}, {"is-number", "6.0.0"}} {
				if p := one(t, g, pv[0], pv[1]); !p.Optional || !p.Direct == (pv[0] == "is-odd") {
					t.Errorf("%s@%s: Optional=%v Direct=%v", pv[0], pv[1], p.Optional, p.Direct)
				}
			}
			if one(t, g, "debug", "4.4.3").Optional {
				t.Error("debug is not optional")
			}
		})
	}
}

// TestUserPatch: yarn 4's `yarn patch-commit` wrote a resolutions entry
// rewriting kind-of@npm:^3.0.2 to a patch of 3.2.2. The lockfile keeps the
// unpatched kind-of@npm:3.2.2 that the patch is made from and is-number's
// dependency as written (kind-of@npm:^3.0.2, which no entry lists).
func TestUserPatch(t *testing.T) {
	g := parseFile(t, filepath.Join("testdata", "fixture", "berry-v10", "yarn.lock"))
	kinds := find(g, "kind-of")
	if len(kinds) != 1 {
		t.Fatalf("want one kind-of package (the patched one), got %d", len(kinds))
	}
	k := kinds[0]
	if k.Source != lockfile.SourcePatch || k.Version != "3.2.2" || !strings.HasPrefix(k.Resolved, "kind-of@patch:kind-of@npm%3A3.2.2#~/.yarn/patches/") {
		t.Errorf("kind-of: %+v", k)
	}
	isNum := one(t, g, "is-number", "3.0.0")
	if d := depNames(g, isNum.Dependencies); !slices.Equal(d, []string{"kind-of@3.2.2"}) {
		t.Errorf("is-number@3.0.0 dependencies = %v", d)
	}
	if d := depNames(g, k.Dependencies); !slices.Equal(d, []string{"is-buffer@1.1.6"}) {
		t.Errorf("kind-of dependencies = %v", d)
	}
}

const v1Sample = "# yarn lockfile v1\r\n" +
	"\r\n" +
	"# a comment\r\n" +
	"\"@scope/a@^1.0.0\", \"@scope/a@~1.2.0\":\r\n" +
	"  version \"1.2.3\"\r\n" +
	"  resolved \"https://registry.yarnpkg.com/@scope/a/-/a-1.2.3.tgz#0123456789abcdef0123456789abcdef01234567\"\r\n" +
	"  dependencies:\r\n" +
	"    b \"^2\"  # trailing comment\r\n" +
	"  optionalDependencies:\r\n" +
	"    \"c\" \"3.0.0\"\r\n" +
	"\r\n" +
	"b@^2:\r\n" +
	"  version \"2.0.0\"\r\n" +
	"  resolved \"https://registry.yarnpkg.com/b/-/b-2.0.0.tgz\"\r\n" +
	"  integrity \"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha512-xyz\"\r\n" +
	"  dependencies:\r\n" +
	"    \"@scope/a\" \"~1.2.0\"\r\n" +
	"\r\n" +
	"c@3.0.0:\r\n" +
	"  version \"3.0.0\"\r\n" +
	"  resolved \"https://registry.yarnpkg.com/c/-/c-3.0.0.tgz#abc\"\r\n" +
	"  uid \"\"\r\n" +
	"  engines:\r\n" +
	"    node \">= 10\"\r\n" +
	"\r\n" +
	"\"q@\\\"weird\\\"\":\r\n" +
	"  version \"0.0.1\"\r\n"

func TestV1Syntax(t *testing.T) {
	g := parse(t, v1Sample)
	if g.Format != lockfile.FormatYarnV1 || len(g.Packages) != 4 {
		t.Fatalf("Format %q, %d packages", g.Format, len(g.Packages))
	}
	a := one(t, g, "@scope/a", "1.2.3")
	if a.Key != "@scope/a@^1.0.0, @scope/a@~1.2.0" || a.Location.Line != 4 || a.Location.Column != 1 {
		t.Errorf("a: key %q at %+v", a.Key, a.Location)
	}
	if a.Integrity != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("a Integrity = %q, want the sha1 of the URL fragment", a.Integrity)
	}
	if d := depNames(g, a.Dependencies); !slices.Equal(d, []string{"b@2.0.0", "c@3.0.0"}) {
		t.Errorf("a dependencies = %v", d)
	}
	b := one(t, g, "b", "2.0.0")
	if b.Integrity != "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha512-xyz" {
		t.Errorf("b Integrity = %q", b.Integrity)
	}
	if d := depNames(g, b.Dependencies); !slices.Equal(d, []string{"@scope/a@1.2.3"}) {
		t.Errorf("b dependencies = %v", d)
	}
	c := one(t, g, "c", "3.0.0")
	if c.Integrity != "" {
		t.Errorf("c Integrity = %q: a fragment that is no sha1 is no integrity", c.Integrity)
	}
	// Nothing depends on a: it is taken for a required root, so c, only
	// its optional dependency, is optional; b is not.
	if !c.Optional || b.Optional || a.Optional {
		t.Errorf("Optional: a %v b %v c %v", a.Optional, b.Optional, c.Optional)
	}
	if q := one(t, g, "q", "0.0.1"); q.Key != `q@"weird"` {
		t.Errorf("escaped key = %q", q.Key)
	}
}

const berrySample = `# comment

__metadata:
  version: 8
  cacheKey: 10c0

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    lib: "file:./lib"
    left: "npm:^1.0.0"
    fse: "npm:^2"
    alias: "npm:real@^3"
  dependenciesMeta:
    fse@2.0.0:
      optional: true
      built: false
  peerDependencies:
    left: "*"
  languageName: unknown
  linkType: soft

"other@workspace:other":
  version: 0.0.0-use.local
  resolution: "other@workspace:other"
  dependencies:
    lib: "file:./lib"
  languageName: unknown
  linkType: soft

"lib@file:./lib::locator=app%40workspace%3A.":
  version: 1.0.0
  resolution: "lib@file:./lib#./lib::hash=1&locator=app%40workspace%3A."
  languageName: node
  linkType: hard

"lib@file:./lib::locator=other%40workspace%3Aother":
  version: 2.0.0
  resolution: "lib@file:./lib#./lib::hash=2&locator=other%40workspace%3Aother"
  languageName: node
  linkType: hard

left@npm:^1.0.0:
  version: 1.0.1
  resolution: 'left@npm:1.0.1'
  bin:
    left: ./bin/left
  checksum: 10c0/aa
  languageName: node
  linkType: hard

"fse@npm:^2":
  version: 2.0.0
  resolution: "fse@npm:2.0.0"
  dependencies:
    deep: "npm:1"
  conditions: os=darwin
  languageName: node
  linkType: hard

"fse@patch:fse@npm%3A^2#optional!builtin<compat/fsevents>":
  version: 2.0.0
  resolution: "fse@patch:fse@npm%3A2.0.0#optional!builtin<compat/fsevents>::version=2.0.0&hash=df0bf1"
  dependencies:
    deep: "npm:1"
  languageName: node
  linkType: hard

"deep@npm:1":
  version: 1.0.0
  resolution: "deep@npm:1.0.0"
  languageName: node
  linkType: hard

"alias@npm:real@^3":
  version: 3.0.0
  resolution: "real@npm:3.0.0"
  languageName: node
  linkType: hard
`

func TestBerrySyntax(t *testing.T) {
	g := parse(t, berrySample)
	if g.Format != lockfile.FormatYarnBerry {
		t.Fatalf("Format %q", g.Format)
	}
	app := g.Importers[0]
	if app.Name != "app" || app.Path != "." || g.Importers[1].Path != "other" {
		t.Fatalf("importers %+v", g.Importers)
	}
	// Each workspace gets the file: package bound to it.
	if d := depNames(g, app.Dependencies); !slices.Equal(d, []string{"fse@2.0.0", "left@1.0.1", "lib@1.0.0", "real@3.0.0"}) {
		t.Errorf("app dependencies = %v", d)
	}
	if d := depNames(g, g.Importers[1].Dependencies); !slices.Equal(d, []string{"lib@2.0.0"}) {
		t.Errorf("other dependencies = %v", d)
	}
	// The builtin patch replaces the package it patches: one fse, the
	// patched one, which app depends on, optional by dependenciesMeta.
	fse := find(g, "fse")
	if len(fse) != 1 || fse[0].Source != lockfile.SourcePatch || !fse[0].Optional || !fse[0].Direct {
		t.Errorf("fse: %+v", fse)
	}
	if deep := one(t, g, "deep", "1.0.0"); !deep.Optional || deep.Direct {
		t.Errorf("deep: Optional %v Direct %v", deep.Optional, deep.Direct)
	}
	if real := one(t, g, "real", "3.0.0"); real.Alias != "alias" {
		t.Errorf("real Alias = %q", real.Alias)
	}
	if left := one(t, g, "left", "1.0.1"); left.Key != "left@npm:^1.0.0" || left.Resolved != "left@npm:1.0.1" ||
		left.Location.Line != lineOf(t, berrySample, "left@npm:^1.0.0:") {
		t.Errorf("left: %+v", left)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		text      string
		line, col int
		msg       string
	}{
		{"v1 field before header", "  version \"1\"\n", 1, 3, "expected an entry header"},
		{"v1 missing colon", "a@^1\n  version \"1\"\n", 1, 5, "expected ',' or ':'"},
		{"v1 unterminated", "\"a@^1:\n", 1, 1, "unterminated"},
		{"v1 tab", "a@^1:\n\tversion \"1\"\n", 2, 1, "tab"},
		{"v1 odd indent", "a@^1:\n   version \"1\"\n", 2, 4, "unexpected indentation"},
		{"v1 deep without block", "a@^1:\n    b \"1\"\n", 2, 5, "unexpected indentation"},
		{"v1 no version", "a@^1:\n  resolved \"x\"\n", 1, 1, "no version"},
		{"v1 value missing", "a@^1:\n  version\n", 2, 10, "expected a space and a value"},
		{"v1 junk after value", "a@^1:\n  version \"1\" x\n", 2, 15, "end of the line"},
		{"v1 conflict", "a@^1:\n  version \"1\"\n<<<<<<< HEAD\n", 3, 1, "merge conflict"},
		{"v1 duplicate", "a@^1:\n  version \"1\"\n\na@^1, a@^2:\n  version \"2\"\n", 4, 1, "also listed by the entry at line 1"},
		{"v1 empty name", "\"@^1\":\n  version \"1\"\n", 1, 6, "no package name"},
		{"berry no metadata value", "__metadata:\n  version: x\n", 2, 3, "expected a number"},
		{"berry no resolution", "__metadata:\n  version: 8\n\n\"a@npm:^1\":\n  version: 1.0.0\n", 4, 1, "no resolution"},
		{"berry value at top", "__metadata:\n  version: 8\na: b\n", 3, 1, "found a value"},
		{"berry sequence", "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: 1.0.0\n  dependencies:\n    - b\n", 6, 5, "sequence"},
		{"berry flow", "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: {}\n", 4, 12, "unsupported YAML"},
		{"berry bad key", "__metadata:\n  version: 8\n\"a\":\n  version: 1\n  resolution: \"a@npm:1\"\n", 3, 1, "expected descriptors"},
		{"berry odd indent", "__metadata:\n  version: 8\n\"a@npm:1\":\n   version: 1\n", 4, 4, "multiple of 2"},
		{"berry deep", "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: 1\n    x: y\n", 5, 5, "unexpected indentation"},
		{"berry no colon", "__metadata:\n  version: 8\n\"a@npm:1\":\n  version 1\n", 4, 12, "expected ':'"},
		{"berry bad resolution", "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: 1\n  resolution: nothing\n", 3, 1, "expected name@reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reader{}.Parse(context.Background(), "dir/yarn.lock", []byte(tc.text))
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *lockfile.ParseError", err, err)
			}
			if pe.File != "dir/yarn.lock" || pe.Line != tc.line || pe.Column != tc.col || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %s:%d:%d %q, want line %d column %d and %q", pe.File, pe.Line, pe.Column, pe.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestEmptyAndLimits(t *testing.T) {
	for _, text := range []string{"", "# yarn lockfile v1\n\n", "\ufeff# yarn lockfile v1\n"} {
		g := parse(t, text)
		if g.Format != lockfile.FormatYarnV1 || len(g.Packages) != 0 {
			t.Errorf("%q: %q with %d packages", text, g.Format, len(g.Packages))
		}
	}
	g := parse(t, "\ufeff__metadata:\n  version: 8\n")
	if g.Format != lockfile.FormatYarnBerry {
		t.Errorf("berry with BOM: %q", g.Format)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := strings.Repeat("a@^1:\n  version \"1\"\n\n", ctxEvery)
	if _, err := (Reader{}).Parse(ctx, "yarn.lock", []byte(big)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestThirdPartyIsDistinct: ThirdParty lists each name@version once even
// where the graph has two packages for it (a tarball URL and a registry
// range both resolving to is-number 7.0.0 in Berry).
func TestThirdPartyIsDistinct(t *testing.T) {
	g := parseFile(t, filepath.Join("testdata", "fixture", "berry-v10", "yarn.lock"))
	n := 0
	for _, pv := range g.ThirdParty() {
		if pv == (npm.PackageVersion{Name: "is-number", Version: "7.0.0"}) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("is-number@7.0.0 listed %d times", n)
	}
}
