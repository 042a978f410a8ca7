package yarnlock

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// readManifests returns the package.json files under dir, keyed by their
// path relative to dir.
func readManifests(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "package.json" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type flags struct{ dev, optional, devOptional, direct bool }

func flagsOf(p *lockfile.Package) flags {
	return flags{p.Dev, p.Optional, p.DevOptional, p.Direct}
}

func TestAttachManifestsFixtures(t *testing.T) {
	// How the fixture project reaches each package (package.json files in
	// testdata/fixture/*): debug, string-width-cjs, is-number (a tarball
	// URL), local-lib and tiny-git are the root's dependencies, typescript
	// and ms@2.1.2 its devDependencies, is-odd@^3 its optional one;
	// @fx/web adds string-width and, for dev, is-even; @fx/util adds ms.
	want := map[string]flags{
		"typescript":                    {dev: true, direct: true},
		"ms@2.1.2":                      {dev: true, direct: true},
		"is-even@1.0.0":                 {dev: true, direct: true},
		"is-odd@0.1.2":                  {dev: true},
		"is-number@3.0.0":               {dev: true},
		"kind-of@3.2.2":                 {dev: true},
		"is-buffer@1.1.6":               {dev: true},
		"is-odd@3.0.1":                  {optional: true, direct: true},
		"is-number@6.0.0":               {optional: true},
		"debug@4.4.3":                   {direct: true},
		"ms@2.1.3":                      {direct: true},
		"local-lib@0.0.1":               {direct: true},
		"tiny-git@1.0.0":                {direct: true},
		"string-width@4.2.3":            {direct: true},
		"strip-ansi@6.0.1":              {},
		"ansi-regex@5.0.1":              {},
		"emoji-regex@8.0.0":             {},
		"is-fullwidth-code-point@3.0.0": {},
		"is-number@7.0.0":               {}, // see below
	}
	for _, dir := range []string{"yarn-v1", "berry-v4", "berry-v6", "berry-v10"} {
		t.Run(dir, func(t *testing.T) {
			root := filepath.Join("testdata", "fixture", dir)
			g := parseFile(t, filepath.Join(root, "yarn.lock"))
			if err := AttachManifests(g, readManifests(t, root)); err != nil {
				t.Fatal(err)
			}
			var imps []string
			for _, imp := range g.Importers {
				imps = append(imps, imp.Name+"@"+imp.Path)
			}
			if want := []string{"fixture-root@.", "@fx/util@packages/util", "@fx/web@packages/web"}; !slices.Equal(imps, want) {
				t.Errorf("importers = %v, want %v", imps, want)
			}
			for i := range g.Packages {
				p := &g.Packages[i]
				if p.Source == lockfile.SourceWorkspace || p.Source == lockfile.SourceLink {
					continue
				}
				key := p.String()
				if p.Name == "typescript" {
					key = "typescript"
				}
				w, ok := want[key]
				if !ok {
					t.Errorf("unexpected package %s", p)
					continue
				}
				if p.Name == "is-number" && p.Version == "7.0.0" {
					// Berry has two: the tarball URL the root asks for,
					// and the registry one local-lib asks for.
					w = flags{direct: p.Source != lockfile.SourceRegistry || dir == "yarn-v1"}
				}
				if p.Alias == "string-width-cjs" {
					w = flags{direct: true}
				}
				if got := flagsOf(p); got != w {
					t.Errorf("%s (%s): got %+v, want %+v", p, p.Key, got, w)
				}
			}
			// The root importer's own list: what its package.json names.
			var rootDeps []string
			for _, d := range g.Importers[0].Dependencies {
				rootDeps = append(rootDeps, g.Packages[d].Name)
			}
			slices.Sort(rootDeps)
			rootDeps = slices.Compact(rootDeps)
			wantRoot := []string{"debug", "is-number", "is-odd", "local-lib", "ms", "string-width", "tiny-git", "typescript"}
			if dir != "yarn-v1" {
				wantRoot = []string{"debug", "is-number", "is-odd", "linked-thing", "local-lib", "ms", "portal-lib", "string-width", "tiny-git", "typescript"}
			}
			if !slices.Equal(rootDeps, wantRoot) {
				t.Errorf("root dependencies = %v, want %v", rootDeps, wantRoot)
			}
		})
	}
}

// TestAttachManifestsFlags covers the combinations npm distinguishes:
// devOptional (needed by the dev tree and by the optional part of the prod
// tree), optional (needed by both trees, but only ever through optional
// edges) and dev plus optional (an optional dependency of a dev
// dependency). The expected flags are those npm 11 writes into
// package-lock.json for the same manifests.
func TestAttachManifestsFlags(t *testing.T) {
	const lock = `# yarn lockfile v1

prod@^1:
  version "1.0.0"
  optionalDependencies:
    both "^1"
  dependencies:
    mixed "^1"

tool@^1:
  version "1.0.0"
  dependencies:
    shared "^1"
  optionalDependencies:
    both "^1"
    native "^1"

shared@^1:
  version "1.0.0"

both@^1:
  version "1.0.0"
  dependencies:
    leaf "^1"

native@^1:
  version "1.0.0"

leaf@^1:
  version "1.0.0"

peer@^1:
  version "1.0.0"

mixed@^1:
  version "1.0.0"
`
	g := parse(t, lock)
	// Before the manifests, what nothing depends on is a required root.
	if p := one(t, g, "native", "1.0.0"); !p.Optional || p.Dev {
		t.Errorf("native before manifests: %+v", flagsOf(p))
	}
	err := AttachManifests(g, map[string][]byte{
		"package.json": []byte(`{"name": "app", "dependencies": {"prod": "^1"}, "devDependencies": {"tool": "^1"},
			"peerDependencies": {"peer": "^1"}, "optionalDependencies": {"workspace-sibling": "*", "shared": "^1"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]flags{
		"prod":   {direct: true},
		"tool":   {dev: true, direct: true},
		"both":   {optional: true}, // optional under prod and under the dev tool alike
		"leaf":   {optional: true},
		"shared": {devOptional: true, direct: true}, // optional for the project, required by the dev tool
		"native": {dev: true, optional: true},
		"mixed":  {},
		"peer":   {direct: true}, // listed, but yarn installs nothing for a peer: no root of the walk
	} {
		if got := flagsOf(one(t, g, name, "1.0.0")); got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
	if len(g.Importers) != 1 || g.Importers[0].Name != "app" || len(g.Importers[0].Dependencies) != 4 {
		t.Errorf("importers: %+v", g.Importers)
	}
	// Attaching again gives the same graph, not a second importer.
	if err := AttachManifests(g, map[string][]byte{"./package.json": []byte(`{"name": "app", "dependencies": {"prod": "^1"}}`)}); err != nil {
		t.Fatal(err)
	}
	if len(g.Importers) != 1 || len(g.Importers[0].Dependencies) != 1 {
		t.Errorf("importers after a second call: %+v", g.Importers)
	}
	if p := one(t, g, "tool", "1.0.0"); p.Dev {
		t.Errorf("tool is no longer a devDependency: %+v", flagsOf(p))
	}
}

// TestAttachManifestsConservative shows the one case where the graph lacks
// what AttachManifests needs (which edges are optional, see its doc): a
// package that one dependent lists as optional and another as required.
// The error is towards "needed in production", never towards hiding a
// package as dev-only.
func TestAttachManifestsConservative(t *testing.T) {
	g := parse(t, `prod@^1:
  version "1.0.0"
  optionalDependencies:
    shared "^1"

tool@^1:
  version "1.0.0"
  dependencies:
    shared "^1"

shared@^1:
  version "1.0.0"
`)
	if err := AttachManifests(g, map[string][]byte{
		"package.json": []byte(`{"dependencies": {"prod": "^1"}, "devDependencies": {"tool": "^1"}}`),
	}); err != nil {
		t.Fatal(err)
	}
	// npm would say devOptional; the lockfile-only flags said required
	// (through tool), and the edge from prod is taken for required too.
	if got := flagsOf(one(t, g, "shared", "1.0.0")); got != (flags{}) {
		t.Errorf("shared: %+v, want no flag", got)
	}
}

func TestAttachManifestsErrors(t *testing.T) {
	g := parse(t, "a@^1:\n  version \"1.0.0\"\n")
	err := AttachManifests(g, map[string][]byte{
		"bad/package.json": []byte(`{"name": `),
		"package.json":     []byte(`{"name": "app", "dependencies": {"a": "^1", "n": 5}, "devDependencies": []}`),
	})
	if err == nil || !strings.Contains(err.Error(), "bad/package.json") {
		t.Errorf("error = %v, want one naming bad/package.json", err)
	}
	if len(g.Importers) != 1 || !g.Packages[0].Direct {
		t.Errorf("the good manifest was not applied: %+v", g.Importers)
	}
	if err := AttachManifests(nil, nil); err == nil {
		t.Error("nil graph: no error")
	}
}
