package bunlock

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/lockfiletest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpusDir is the shared corpus of real lockfiles, beside the repository.
const corpusDir = "../../../../shared/corpus/lockfiles"

func parseFile(t testing.TB, file string) *lockfile.Graph {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Reader{}.Parse(context.Background(), file, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", file, err)
	}
	return g
}

// checkExpected compares Graph.ThirdParty() with a name@version list.
func checkExpected(t *testing.T, file, expected string) *lockfile.Graph {
	t.Helper()
	g := parseFile(t, file)
	want, err := os.ReadFile(expected)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pv := range g.ThirdParty() {
		got = append(got, pv.String())
	}
	wantLines := strings.Fields(string(want))
	gotSet, wantSet := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		gotSet[s] = true
	}
	for _, s := range wantLines {
		wantSet[s] = true
		if !gotSet[s] {
			t.Errorf("missing %s", s)
		}
	}
	for _, s := range got {
		if !wantSet[s] {
			t.Errorf("unexpected %s", s)
		}
	}
	if len(got) != len(wantLines) {
		t.Errorf("%s: %d packages, want %d", file, len(got), len(wantLines))
	}
	return g
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "bun", "bun.lock"))
	if len(files) == 0 {
		t.Skipf("no shared corpus at %s (it lives beside the repository, not in it)", corpusDir)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(f))), func(t *testing.T) {
			checkExpected(t, f, f+".expected.txt")
		})
	}
}

func TestWebappMedium(t *testing.T) {
	g := checkExpected(t, "testdata/webapp-medium/bun.lock", "testdata/webapp-medium/bun.lock.expected.txt")
	for _, p := range g.Packages {
		switch p.Name {
		case "axios":
			if !p.Direct || p.Dev {
				t.Errorf("axios: direct=%v dev=%v", p.Direct, p.Dev)
			}
		case "jest":
			if p.Key == "jest" && (!p.Direct || !p.Dev) {
				t.Errorf("jest: direct=%v dev=%v", p.Direct, p.Dev)
			}
		}
	}
	data, _ := os.ReadFile("testdata/webapp-medium/bun.lock")
	lines := strings.Split(string(data), "\n")
	for _, p := range g.Packages[:50] {
		if l := lines[p.Location.Line-1]; !strings.HasPrefix(l[p.Location.Column-1:], `"`+p.Key+`": [`) {
			t.Errorf("%s at %d:%d, line is %q", p.Key, p.Location.Line, p.Location.Column, l)
		}
	}
}

var dump = lockfiletest.Dump

// TestGolden compares whole graphs of the real fixtures with golden dumps
// (go test -update rewrites them).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/bun*.lock")
	if len(files) < 3 {
		t.Fatalf("found %d fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := dump(parseFile(t, f))
			golden := strings.TrimSuffix(f, ".lock") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("graph differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// TestFixtureFacts pins what the golden files are about.
func TestFixtureFacts(t *testing.T) {
	type fact struct {
		name, version         string
		source                lockfile.Source
		direct, dev, optional bool
		alias                 string
	}
	for _, file := range []string{"testdata/bun1.1.43-v0.lock", "testdata/bun1.2.19-v1.lock", "testdata/bun1.4.5-v2.lock"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			g := parseFile(t, file)
			link := "link:ext"
			if strings.Contains(file, "v2") {
				link = "link:./linked/ext"
			}
			facts := map[string]fact{
				"react-dom":               {"react-dom", "18.2.0", lockfile.SourceRegistry, true, false, false, ""},
				"string-width-cjs":        {"string-width", "4.2.3", lockfile.SourceRegistry, true, false, false, "string-width-cjs"},
				"debug":                   {"debug", "4.3.4", lockfile.SourceRegistry, true, true, false, ""},
				"debug/ms":                {"ms", "2.1.2", lockfile.SourceRegistry, false, true, false, ""}, // local-dir has its own copy
				"is-number":               {"is-number", "7.0.0", lockfile.SourceRegistry, true, false, true, ""},
				"@fx/web/react":           {"react", "18.3.1", lockfile.SourceRegistry, true, false, false, ""},
				"@fx/lib":                 {"@fx/lib", "workspace:packages/lib", lockfile.SourceWorkspace, true, false, false, ""},
				"ext":                     {"ext", link, lockfile.SourceLink, true, false, false, ""},
				"local-dir":               {"local-dir", "file:vendor/local-dir", lockfile.SourceFile, true, false, false, ""},
				"local-tgz":               {"local-tgz", "./vendor/local-tgz-1.0.0.tgz", lockfile.SourceFile, true, false, false, ""},
				"remote-tgz":              {"remote-tgz", "http://127.0.0.1:48731/remote-tgz-2.0.0.tgz", lockfile.SourceTarball, true, false, false, ""},
				"is-odd":                  {"is-odd", "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz", lockfile.SourceTarball, true, false, false, ""},
				"git-pkg":                 {"git-pkg", "git+file:///tmp/vigil-pnpmbun/gitrepo#7a8e44992bece5fb62f44a07a2befe9bc05382d1", lockfile.SourceGit, true, false, false, ""},
				"use-sync-external-store": {"use-sync-external-store", "1.2.0", lockfile.SourceRegistry, true, false, false, ""},
			}
			byKey := map[string]*lockfile.Package{}
			for i := range g.Packages {
				byKey[g.Packages[i].Key] = &g.Packages[i]
			}
			for key, f := range facts {
				p := byKey[key]
				if p == nil {
					t.Errorf("no package %q", key)
					continue
				}
				got := fact{p.Name, p.Version, p.Source, p.Direct, p.Dev, p.Optional, p.Alias}
				if got != f {
					t.Errorf("%s:\n got %+v\nwant %+v", key, got, f)
				}
			}
			// @fx/web's own react (18.3.1) is what it depends on, not the root's
			var web *lockfile.Importer
			for i := range g.Importers {
				if g.Importers[i].Path == "packages/web" {
					web = &g.Importers[i]
				}
			}
			if web == nil || web.Name != "@fx/web" {
				t.Fatalf("importers %+v", g.Importers)
			}
			var deps []string
			for _, d := range web.Dependencies {
				deps = append(deps, g.Packages[d].Key)
			}
			if got := strings.Join(deps, " "); got != "@fx/lib @fx/web/react use-sync-external-store @fx/web/ms" {
				t.Errorf("@fx/web depends on %s", got)
			}
			for _, pv := range g.ThirdParty() {
				if strings.HasPrefix(pv.Name, "@fx/") || pv.Name == "ext" {
					t.Errorf("ThirdParty lists the project's own %s", pv)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"empty", "", 1, 1, "expected a value"},
		{"not an object", "[]", 1, 1, "expected an object"},
		{"no version", "{}", 1, 1, "expected lockfileVersion"},
		{"string version", `{"lockfileVersion": "1"}`, 1, 21, "expected lockfileVersion"},
		{"unclosed", "{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n", 4, 1, "close the object"},
		{"bad comment", "{ /* x ", 1, 3, "close the comment"},
		{"packages array", "{\"lockfileVersion\": 1, \"packages\": []}", 1, 36, "packages: expected an object"},
		{"entry not array", "{\"lockfileVersion\": 1,\n \"packages\": {\"a\": {}}}", 2, 20, "expected an array"},
		{"entry no id", "{\"lockfileVersion\": 1,\n \"packages\": {\"a\": [1]}}", 2, 20, "expected [\"NAME@VERSION\""},
		{"id without version", "{\"lockfileVersion\": 1,\n \"packages\": {\"a\": [\"a\"]}}", 2, 21, "expected NAME@VERSION"},
		{"duplicate", "{\"lockfileVersion\": 1,\n \"packages\": {\"a\": [\"a@1.0.0\"],\n \"a\": [\"a@1.0.0\"]}}", 3, 2, "listed twice"},
		{"trailing garbage", "{\"lockfileVersion\": 1} x", 1, 24, "end of the file"},
		{"bad escape", "{\"a\\q\": 1}", 1, 4, "unknown escape"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reader{}.Parse(context.Background(), "bun.lock", []byte(tc.in))
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *lockfile.ParseError", err)
			}
			if pe.File != "bun.lock" || pe.Line != tc.line || pe.Column != tc.col || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %d:%d %q; want %d:%d containing %q", pe.Line, pe.Column, pe.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

// TestShapes covers entry shapes no fixture holds: github and git+https
// dependencies (they need a network), comments, an empty lockfile.
func TestShapes(t *testing.T) {
	const in = `// written by hand in bun's shapes
{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": { "gh": "github:owner/gh", "g": "git+https://example.com/g.git", "missing": "^1" },
      "peerDependencies": { "react": "^18" },
    },
  },
  /* packages */
  "packages": {
    "gh": ["gh@github:owner/gh#0123abc", { "dependencies": { "dep": "^1" } }, "owner-gh-0123abc"],
    "g": ["g@git+https://example.com/g.git#89ab", {}, "89ab"],
    "dep": ["dep@1.0.0", "https://registry.example.com/", {}, "sha512-AAAA"],
    "react": ["react@18.2.0", "", {}, "sha512-BBBB"],
  },
}`
	g, err := Reader{}.Parse(context.Background(), "bun.lock", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := dump(g)
	for _, want := range []string{
		"gh@github:owner/gh#0123abc source=git line=13 col=5 [direct]\n  resolved: github:owner/gh#0123abc\n  -> dep\n",
		"g@git+https://example.com/g.git#89ab source=git",
		"dep@1.0.0 source=registry line=15 col=5\n  resolved: https://registry.example.com/\n  integrity: sha512-AAAA…",
		"react@18.2.0 source=registry line=16 col=5 [direct peer]", // only the root's peer
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dump lacks %q:\n%s", want, got)
		}
	}
	if _, err := (Reader{}).Parse(context.Background(), "bun.lock", []byte(`{"lockfileVersion": 1, "workspaces": {"": {"name": "x"}}, "packages": {}}`)); err != nil {
		t.Errorf("an empty project: %v", err)
	}
}

func TestComponents(t *testing.T) {
	for key, want := range map[string]string{
		"react":                             "react",
		"@babel/core":                       "@babel/core",
		"@fx/web/react":                     "@fx/web|react",
		"@angular/cli/@angular-devkit/core": "@angular/cli|@angular-devkit/core",
		"a/b/@c/d/e":                        "a|b|@c/d|e",
		"@broken":                           "@broken",
	} {
		ends := components(key, nil)
		var parts []string
		start := 0
		for _, e := range ends {
			parts = append(parts, key[start:e])
			start = e + 1
		}
		if got := strings.Join(parts, "|"); got != want {
			t.Errorf("components(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	data, err := os.ReadFile("testdata/webapp-medium/bun.lock")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Reader{}).Parse(ctx, "bun.lock", data); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestMatches(t *testing.T) {
	r := Reader{}
	if !r.Matches("bun.lock") || r.Matches("bun.lockb") || r.Name() != "bun" {
		t.Error("Matches/Name")
	}
}

// BenchmarkParse reads the 1.6 MB corpus monorepo lockfile when ../shared is
// present, the committed webapp-medium copy otherwise.
func BenchmarkParse(b *testing.B) {
	file := filepath.Join(corpusDir, "monorepo-large", "bun", "bun.lock")
	data, err := os.ReadFile(file)
	if err != nil {
		file = "testdata/webapp-medium/bun.lock"
		if data, err = os.ReadFile(file); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Reader{}).Parse(context.Background(), file, data); err != nil {
			b.Fatal(err)
		}
	}
}
