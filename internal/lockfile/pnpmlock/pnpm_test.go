package pnpmlock

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/lockfiletest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var dump = lockfiletest.Dump

func parseFile(t *testing.T, file string) *lockfile.Graph {
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

// TestGolden compares the whole graph of each real fixture with its golden
// dump (go test -update rewrites them), and checks that the fast YAML
// reader handled the file without falling back.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/pnpm*.yaml")
	if len(files) < 5 {
		t.Fatalf("found %d fixtures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			if _, err := parseFast(string(data)); err != nil {
				t.Errorf("fast reader: %v", err)
			}
			got := dump(parseFile(t, f))
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
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

// TestFixtureFacts pins the facts the golden files are about, so that an
// -update cannot silently bless a regression.
func TestFixtureFacts(t *testing.T) {
	type fact struct {
		key                   string
		name, version         string
		source                lockfile.Source
		dev, optional, direct bool
		alias                 string
	}
	common := func(style string) map[string]fact {
		k := func(name, version, peers string) string {
			switch style {
			case "v5":
				if peers != "" {
					peers = "_" + peers
				}
				return "/" + name + "/" + version + peers
			case "v6":
				if peers != "" {
					peers = "(" + peers + ")"
				}
				return "/" + name + "@" + version + peers
			}
			if peers != "" {
				peers = "(" + peers + ")"
			}
			return name + "@" + version + peers
		}
		return map[string]fact{
			"react-dom":  {key: k("react-dom", "18.2.0", "react@18.2.0"), name: "react-dom", version: "18.2.0", source: lockfile.SourceRegistry, direct: true},
			"alias":      {key: k("string-width", "4.2.3", ""), name: "string-width", version: "4.2.3", source: lockfile.SourceRegistry, direct: true, alias: "string-width-cjs"},
			"dev":        {key: k("debug", "4.3.4", ""), name: "debug", version: "4.3.4", source: lockfile.SourceRegistry, direct: true, dev: true},
			"devonly":    {key: k("ms", "2.0.0", ""), name: "ms", version: "2.0.0", source: lockfile.SourceRegistry, direct: true, dev: true},
			"optional":   {key: k("is-number", "7.0.0", ""), name: "is-number", version: "7.0.0", source: lockfile.SourceRegistry, direct: true, optional: true},
			"peervar":    {key: k("use-sync-external-store", "1.2.0", "react@18.3.1"), name: "use-sync-external-store", version: "1.2.0", source: lockfile.SourceRegistry, direct: true},
			"regtarball": {key: k("is-odd", "3.0.1", ""), name: "is-odd", version: "3.0.1", source: lockfile.SourceRegistry, direct: true},
		}
	}
	cases := map[string]map[string]fact{
		"testdata/pnpm7-v5.4.yaml":  common("v5"),
		"testdata/pnpm6-v5.3.yaml":  common("v5"),
		"testdata/pnpm8-v6.0.yaml":  common("v6"),
		"testdata/pnpm10-v9.0.yaml": common("v9"),
		"testdata/pnpm11-multidoc.yaml": func() map[string]fact {
			m := common("v9")
			m["config"] = fact{key: "left-pad@1.3.0", name: "left-pad", version: "1.3.0", source: lockfile.SourceRegistry, direct: true}
			return m
		}(),
	}
	for _, file := range []string{"testdata/pnpm7-v5.4.yaml", "testdata/pnpm6-v5.3.yaml"} {
		cases[file]["git"] = fact{key: "/tmp/vigil-pnpmbun/gitrepo/7a8e44992bece5fb62f44a07a2befe9bc05382d1", name: "git-pkg", version: "7a8e44992bece5fb62f44a07a2befe9bc05382d1", source: lockfile.SourceGit, direct: true}
		cases[file]["tarball"] = fact{key: "@127.0.0.1+48731/remote-tgz-2.0.0.tgz", name: "remote-tgz", version: "2.0.0", source: lockfile.SourceTarball, direct: true}
		cases[file]["localtgz"] = fact{key: "file:vendor/local-tgz-1.0.0.tgz", name: "local-tgz", version: "1.0.0", source: lockfile.SourceFile, direct: true}
	}
	cases["testdata/pnpm7-v5.4.yaml"]["folder"] = fact{key: "file:vendor/local-dir", name: "local-dir", version: "0.0.1", source: lockfile.SourceFile, direct: true}
	cases["testdata/pnpm6-v5.3.yaml"]["folder"] = fact{key: "link:vendor/local-dir", name: "local-dir", version: "link:vendor/local-dir", source: lockfile.SourceLink, direct: true}
	cases["testdata/pnpm8-v6.0.yaml"]["folder"] = fact{key: "file:vendor/local-dir", name: "local-dir", version: "file:vendor/local-dir", source: lockfile.SourceFile, direct: true}
	cases["testdata/pnpm8-v6.0.yaml"]["tarball"] = fact{key: "@127.0.0.1+48731/remote-tgz-2.0.0.tgz", name: "remote-tgz", version: "2.0.0", source: lockfile.SourceTarball, direct: true}
	for _, file := range []string{"testdata/pnpm10-v9.0.yaml", "testdata/pnpm11-multidoc.yaml"} {
		cases[file]["git"] = fact{key: "git-pkg@git+file:///tmp/vigil-pnpmbun/gitrepo#7a8e44992bece5fb62f44a07a2befe9bc05382d1", name: "git-pkg", version: "1.0.0", source: lockfile.SourceGit, direct: true}
		cases[file]["tarball"] = fact{key: "remote-tgz@http://127.0.0.1:48731/remote-tgz-2.0.0.tgz", name: "remote-tgz", version: "2.0.0", source: lockfile.SourceTarball, direct: true}
		cases[file]["localtgz"] = fact{key: "local-tgz@file:vendor/local-tgz-1.0.0.tgz", name: "local-tgz", version: "1.0.0", source: lockfile.SourceFile, direct: true}
		cases[file]["folder"] = fact{key: "local-dir@file:vendor/local-dir", name: "local-dir", version: "file:vendor/local-dir", source: lockfile.SourceFile, direct: true}
	}
	for file, facts := range cases {
		t.Run(filepath.Base(file), func(t *testing.T) {
			g := parseFile(t, file)
			byKey := map[string]*lockfile.Package{}
			for i := range g.Packages {
				byKey[g.Packages[i].Key] = &g.Packages[i]
			}
			for what, f := range facts {
				p := byKey[f.key]
				if p == nil {
					t.Errorf("%s: no package %q", what, f.key)
					continue
				}
				got := fact{key: p.Key, name: p.Name, version: p.Version, source: p.Source, dev: p.Dev, optional: p.Optional, direct: p.Direct, alias: p.Alias}
				if got != f {
					t.Errorf("%s:\n got %+v\nwant %+v", what, got, f)
				}
				if p.Location.Line == 0 || p.Location.File != file {
					t.Errorf("%s: location %+v", what, p.Location)
				}
			}
			// workspace: @fx/web links to @fx/lib, which is not third-party
			var web, lib *lockfile.Importer
			for i := range g.Importers {
				switch g.Importers[i].Path {
				case "packages/web":
					web = &g.Importers[i]
				case "packages/lib":
					lib = &g.Importers[i]
				}
			}
			if web == nil || lib == nil {
				t.Fatalf("importers: %+v", g.Importers)
			}
			if lib.Name != "@fx/lib" {
				t.Errorf("packages/lib is named %q, want @fx/lib (from the link)", lib.Name)
			}
			var linked bool
			for _, d := range web.Dependencies {
				p := g.Packages[d]
				if p.Name == "@fx/lib" {
					linked = p.Source == lockfile.SourceWorkspace
				}
			}
			if !linked {
				t.Errorf("packages/web does not depend on the @fx/lib workspace package")
			}
			for _, pv := range g.ThirdParty() {
				if strings.HasPrefix(pv.Name, "@fx/") || pv.Name == "ext" {
					t.Errorf("ThirdParty lists the project's own %s", pv)
				}
			}
			// ms@2.1.3 is a prod dependency of @fx/lib and a dev one of @fx/web:
			// not dev. ms@2.1.2 only comes through debug (dev) and local-dir.
			for _, p := range g.Packages {
				if p.Name == "ms" && p.Version == "2.1.3" && p.Dev {
					t.Errorf("ms@2.1.3 is dev")
				}
			}
		})
	}
}

func TestWebappMedium(t *testing.T) {
	g := checkExpected(t, "testdata/webapp-medium/pnpm-lock.yaml", "testdata/webapp-medium/pnpm-lock.yaml.expected.txt")
	if g.Format != lockfile.FormatPnpmV9 {
		t.Errorf("format %q", g.Format)
	}
	// axios is a direct prod dependency; jest only a dev one
	for _, p := range g.Packages {
		switch p.Name {
		case "axios":
			if !p.Direct || p.Dev {
				t.Errorf("axios: direct=%v dev=%v", p.Direct, p.Dev)
			}
		case "jest":
			if !p.Direct || !p.Dev {
				t.Errorf("jest: direct=%v dev=%v", p.Direct, p.Dev)
			}
		}
	}
	// the Location points at the snapshot key
	data, _ := os.ReadFile("testdata/webapp-medium/pnpm-lock.yaml")
	lines := strings.Split(string(data), "\n")
	for _, p := range g.Packages[:50] {
		l := lines[p.Location.Line-1]
		if !strings.HasPrefix(strings.Trim(strings.TrimSpace(l), "'"), p.Key) || p.Location.Column != 3 {
			t.Errorf("%s at %d:%d, line is %q", p.Key, p.Location.Line, p.Location.Column, l)
		}
	}
}

// TestMultiDocument checks that every document of a stream is read: pnpm 11
// and later put config and package-manager dependencies in a first
// document, which a single-document reader silently drops.
func TestMultiDocument(t *testing.T) {
	const envDoc = `---
lockfileVersion: '9.0'

importers:

  .:
    packageManagerDependencies:
      pnpm:
        specifier: 12.3.4
        version: 12.3.4

packages:

  '@pnpm/exe.linux-x64@12.3.4':
    resolution: {integrity: sha512-AAAA}
    cpu: [x64]
    os: [linux]

  pnpm@12.3.4:
    resolution: {integrity: sha512-BBBB}

snapshots:

  '@pnpm/exe.linux-x64@12.3.4':
    optional: true

  pnpm@12.3.4:
    optionalDependencies:
      '@pnpm/exe.linux-x64': 12.3.4

---
lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      left-pad:
        specifier: ^1.3.0
        version: 1.3.0
    devDependencies:
      pnpm:
        specifier: 12.3.4
        version: 12.3.4

packages:

  left-pad@1.3.0:
    resolution: {integrity: sha512-CCCC}

  pnpm@12.3.4:
    resolution: {integrity: sha512-BBBB}

snapshots:

  left-pad@1.3.0: {}

  pnpm@12.3.4:
    optionalDependencies:
      '@pnpm/exe.linux-x64': 12.3.4
`
	g, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(envDoc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pv := range g.ThirdParty() {
		got = append(got, pv.String())
	}
	want := []string{"@pnpm/exe.linux-x64@12.3.4", "left-pad@1.3.0", "pnpm@12.3.4"}
	if !slices.Equal(got, want) {
		t.Errorf("ThirdParty = %v, want %v", got, want)
	}
	if len(g.Importers) != 1 || len(g.Importers[0].Dependencies) != 3 {
		t.Errorf("importers: %+v", g.Importers)
	}
	// pnpm is both a package-manager dependency (env document) and a dev
	// dependency: it is not dev-only. The key appears in both documents and
	// is one package.
	n := 0
	for _, p := range g.Packages {
		if p.Name == "pnpm" {
			n++
			if p.Dev {
				t.Errorf("pnpm is marked dev")
			}
			if p.Location.Line != 27 {
				t.Errorf("pnpm located at line %d, want the first document's 27", p.Location.Line)
			}
		}
		if p.Name == "@pnpm/exe.linux-x64" && !p.Optional {
			t.Errorf("@pnpm/exe.linux-x64 is not optional")
		}
	}
	if n != 1 {
		t.Errorf("pnpm@12.3.4 appears %d times", n)
	}
}

// TestPeerSuffixes covers nested parentheses and hashed suffixes in v9 and
// underscores in v5 keys.
func TestPeerSuffixes(t *testing.T) {
	for _, tc := range []struct {
		key           string
		style         keyStyle
		name, version string
		registry      bool
	}{
		{"react-dom@18.2.0(react@18.2.0)", styleV9, "react-dom", "18.2.0", true},
		{"@a/b@1.0.0(x@1.0.0(y@2.0.0))(z@3.0.0)", styleV9, "@a/b", "1.0.0", true},
		{"@vue/cli-service@5.0.9(ba604bda26ba33fcb96ed5014311e243)", styleV9, "@vue/cli-service", "5.0.9", true},
		{"foo@1.0.0(patch_hash=abc)(react@18.0.0)", styleV9, "foo", "1.0.0", true},
		{"local@file:vendor/local", styleV9, "local", "file:vendor/local", false},
		{"git@git+https://github.com/a/b.git#0123", styleV9, "git", "git+https://github.com/a/b.git#0123", false},
		{"noversion", styleV9, "", "", false},
		{"@", styleV9, "", "", false},
		{"/@babel/core/7.0.0_@types+node@18.0.0", styleV5, "@babel/core", "7.0.0", true},
		{"/react-dom/18.2.0_react@18.2.0", styleV5, "react-dom", "18.2.0", true},
		{"/foo/1.0.0_a7de2f1e6b8c", styleV5, "foo", "1.0.0", true},
		{"github.com/a/b/0123", styleV5, "", "", false},
		{"/abs/path/repo/0123", styleV5, "", "", false},
		{"/@scope", styleV5, "", "", false},
		{"/@babel/core@7.0.0(@types/node@18.0.0)", styleV6, "@babel/core", "7.0.0", true},
		{"file:../x", styleV6, "", "", false},
	} {
		name, version, registry := splitKey(tc.key, tc.style)
		if name != tc.name || version != tc.version || registry != tc.registry {
			t.Errorf("splitKey(%q) = %q, %q, %v; want %q, %q, %v", tc.key, name, version, registry, tc.name, tc.version, tc.registry)
		}
	}
}

// TestHostedGit covers github: dependencies, which pnpm resolves to
// codeload tarballs of a commit (no fixture has one: they need GitHub).
func TestHostedGit(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	const codeload = "https://codeload.github.com/user/foo/tar.gz/" + sha
	for _, tc := range []struct{ name, in, key string }{
		{"v5", `lockfileVersion: 5.4
importers:
  .:
    specifiers:
      foo: github:user/foo
    dependencies:
      foo: github.com/user/foo/` + sha + `
packages:
  github.com/user/foo/` + sha + `:
    resolution: {tarball: ` + codeload + `}
    name: foo
    version: 1.2.3
    dev: false
`, "github.com/user/foo/" + sha},
		{"v9", `lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      foo:
        specifier: github:user/foo
        version: ` + codeload + `
packages:
  foo@` + codeload + `:
    resolution: {tarball: ` + codeload + `}
    version: 1.2.3
snapshots:
  foo@` + codeload + `: {}
`, "foo@" + codeload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Packages) != 1 {
				t.Fatalf("packages: %+v", g.Packages)
			}
			p := g.Packages[0]
			if p.Key != tc.key || p.Name != "foo" || p.Version != "1.2.3" || p.Source != lockfile.SourceGit || p.Resolved != codeload || !p.Direct {
				t.Errorf("got %+v", p)
			}
		})
	}
}

// TestReformatted checks shapes that other tools give a lockfile: prettier
// puts long flow mappings on lines of their own and prefers double quotes;
// a private registry's tarball URL may carry a query. The fast reader reads
// them all (no fallback), with the same result.
func TestReformatted(t *testing.T) {
	const pnpmStyle = `lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      '@scope/a':
        specifier: ^1.0.0
        version: 1.0.0(b@2.0.0)
packages:
  '@scope/a@1.0.0':
    resolution: {integrity: sha512-AAAA, tarball: https://npm.example.com/a.tgz?token=x}
  b@2.0.0:
    resolution: {integrity: sha512-BBBB}
snapshots:
  '@scope/a@1.0.0(b@2.0.0)':
    dependencies:
      b: 2.0.0
  b@2.0.0: {}
`
	const prettierStyle = `lockfileVersion: "9.0"
importers:
  .:
    dependencies:
      "@scope/a":
        specifier: ^1.0.0
        version: 1.0.0(b@2.0.0)
packages:
  "@scope/a@1.0.0":
    resolution:
      {
        integrity: sha512-AAAA,
        tarball: https://npm.example.com/a.tgz?token=x,
      }
  b@2.0.0:
    resolution: { integrity: sha512-BBBB }
snapshots:
  "@scope/a@1.0.0(b@2.0.0)":
    dependencies:
      b: 2.0.0
  b@2.0.0: {}
`
	var dumps []string
	for _, in := range []string{pnpmStyle, prettierStyle} {
		if _, err := parseFast(in); err != nil {
			t.Errorf("fast reader: %v", err)
		}
		g, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		// positions differ: prettier's layout has more lines
		dumps = append(dumps, regexp.MustCompile(` line=\d+ col=\d+`).ReplaceAllString(dump(g), ""))
	}
	if dumps[0] != dumps[1] {
		t.Errorf("pnpm style:\n%s\nprettier style:\n%s", dumps[0], dumps[1])
	}
	if !strings.Contains(dumps[0], "resolved: https://npm.example.com/a.tgz?token=x") || !strings.Contains(dumps[0], "@scope/a@1.0.0 source=registry") {
		t.Errorf("a registry package from another registry:\n%s", dumps[0])
	}
}

// TestFallback reads YAML outside the fast reader's subset (an anchor and
// alias, a block scalar, a compact mapping in a sequence) through yaml/v3.
func TestFallback(t *testing.T) {
	const in = `lockfileVersion: '9.0'
# hand-edited
importers:
  .:
    dependencies:
      a: {specifier: ^1.0.0, version: 1.0.0}
packages:
  a@1.0.0:
    resolution: &res {integrity: sha512-AAAA}
    deprecated: |
      use b
    cpu:
      - x64
  b@1.0.0:
    resolution: *res
snapshots:
  a@1.0.0:
    dependencies:
      b: 1.0.0
  b@1.0.0: {}
`
	if _, err := parseFast(in); err == nil {
		t.Fatal("the fast reader read anchors; this test needs another trigger")
	}
	g, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range g.Packages {
		got = append(got, fmt.Sprintf("%s %s line=%d deps=%v", p.Name, p.Integrity, p.Location.Line, p.Dependencies))
	}
	want := []string{"a sha512-AAAA line=17 deps=[1]", "b sha512-AAAA line=20 deps=[]"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"empty", "", 1, 1, "empty file"},
		{"comment only", "# nothing\n", 1, 1, "empty file"},
		{"no version", "importers: {}\n", 1, 1, "expected lockfileVersion"},
		{"bad version", "lockfileVersion: banana\n", 1, 18, "lockfileVersion"},
		{"old version", "lockfileVersion: 2\n", 1, 18, "before version 3"},
		{"not a mapping", "- a\n- b\n", 1, 1, "expected a mapping"},
		{"packages list", "lockfileVersion: '9.0'\npackages:\n  - a\n", 2, 1, "packages: expected a mapping"},
		{"bad key", "lockfileVersion: '9.0'\nsnapshots:\n  foo: {}\n", 3, 3, "expected NAME@VERSION"},
		{"dep without version", "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1\n", 5, 7, "expected a version"},
		{"bad yaml", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {\n", 3, 0, "invalid YAML"},
		{"bad indentation", "lockfileVersion: '9.0'\n  packages: {}\n", 1, 0, "invalid YAML"},
		{"resolution scalar", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: x\n", 4, 17, "resolution: expected a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Reader{}.Parse(context.Background(), "pnpm-lock.yaml", []byte(tc.in))
			var pe *lockfile.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *lockfile.ParseError", err)
			}
			if pe.File != "pnpm-lock.yaml" || pe.Line != tc.line || (tc.col > 0 && pe.Column != tc.col) || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %s:%d:%d %q; want line %d col %d containing %q", pe.File, pe.Line, pe.Column, pe.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	data, err := os.ReadFile("testdata/webapp-medium/pnpm-lock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Reader{}).Parse(ctx, "x", data); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestMatches(t *testing.T) {
	r := Reader{}
	if !r.Matches("pnpm-lock.yaml") || r.Matches("pnpm-workspace.yaml") || r.Matches("yarn.lock") {
		t.Error("Matches")
	}
	if r.Name() != "pnpm" {
		t.Error("Name")
	}
}
