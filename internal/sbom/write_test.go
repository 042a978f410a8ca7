package sbom

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func pkg(name, version string, mod func(*lockfile.Package)) lockfile.Package {
	p := lockfile.Package{PackageVersion: npm.PackageVersion{Name: name, Version: version}, Source: lockfile.SourceRegistry, Key: "node_modules/" + name}
	if mod != nil {
		mod(&p)
	}
	return p
}

// testGraphs is a project as two lockfiles would describe it: an npm
// workspace project and a yarn-managed tools folder that shares a package
// with it. Integrity values are the real ones from the registry.
func testGraphs() []*lockfile.Graph {
	npmGraph := &lockfile.Graph{
		File:   "app/package-lock.json",
		Format: lockfile.FormatPackageLockV3,
		Importers: []lockfile.Importer{
			{Name: "acme-app", Path: "", Dependencies: []int{0, 2, 4, 6, 7, 10}},
			{Name: "@acme/ui", Path: "packages/ui", Dependencies: []int{3}},
		},
		Packages: []lockfile.Package{
			0: pkg("debug", "4.4.1", func(p *lockfile.Package) {
				p.Integrity = "sha512-KcKCqiftBJcZr++7ykoDIEwSa3XWowTfNPo92BYxjXiyYEVrUQh2aLyhxBCwww+heortUFxEJYcRzosstTEBYQ=="
				p.Resolved = "https://registry.npmjs.org/debug/-/debug-4.4.1.tgz"
				p.Dependencies = []int{1}
			}),
			1: pkg("ms", "2.1.3", func(p *lockfile.Package) {
				p.Integrity = "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
				p.Resolved = "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz"
			}),
			2: pkg("@acme/ui", "1.0.0", func(p *lockfile.Package) {
				p.Source, p.Key, p.Dependencies = lockfile.SourceWorkspace, "packages/ui", []int{3}
			}),
			3: pkg("@isaacs/string-locale-compare", "1.1.0", func(p *lockfile.Package) {
				p.Integrity = "sha512-SQ7Kzhh9+D+ZW9MA0zkYv3VXhIDNx+LzM6EJ+/65I3QY+enU6Itte7E5XX7EWrqLW2FN4n06GWzBnPoC3th2aQ=="
			}),
			4: pkg("once", "1.4.0", func(p *lockfile.Package) {
				p.Dev, p.Dependencies = true, []int{5}
				p.Integrity = "sha512-lNaJgI+2Q5URQBkccEKHTQOPaXdUxnZZElQTZY0MFUAuaEqe1E+Nyvgdz/aIyNi6Z9MzO5dv1H8n58/GELp3+w=="
			}),
			5: pkg("wrappy", "1.0.2", func(p *lockfile.Package) { p.Dev = true }),
			6: pkg("is-number", "7.0.0", func(p *lockfile.Package) { p.Optional = true }),
			7: pkg("left-pad", "1.3.0", func(p *lockfile.Package) {
				p.Source, p.Resolved = lockfile.SourceGit, "git+ssh://git@github.com/left-pad/left-pad.git#5d4b2d7"
			}),
			// A second, dev-only copy of ms: the prod copy makes it required.
			8: pkg("ms", "2.1.3", func(p *lockfile.Package) { p.Dev, p.Key = true, "node_modules/once/node_modules/ms" }),
			9: pkg("node-gyp-build", "4.8.0", func(p *lockfile.Package) {
				p.DevOptional, p.Bundled = true, true
				p.Integrity = "sha512-u6fs2AEUljNho3EYTJNBfImO5QTo/J/1Etd+NVdCj7qWKUSN/bSLkZwhDv7I+w/MSC6qJ4cknepkAYykDdK8og=="
			}),
			10: pkg("local-lib", "0.0.1", func(p *lockfile.Package) {
				p.Source, p.Key, p.Dependencies = lockfile.SourceLink, "../local-lib", []int{1, 9, 99} // 99: a dangling index
			}),
		},
	}
	yarnGraph := &lockfile.Graph{
		File:      "tools/yarn.lock",
		Format:    lockfile.FormatYarnV1,
		Importers: []lockfile.Importer{{Path: ".", Dependencies: []int{0, 1}}},
		Packages: []lockfile.Package{
			// yarn v1 records only the sha1 shasum; the npm graph's
			// sha512 for the same release wins.
			pkg("debug", "4.4.1", func(p *lockfile.Package) { p.Integrity = "e5a8bc6cbc4c6cd3e64308b0693a3d4fa550189b" }),
			pkg("picocolors", "1.1.1", func(p *lockfile.Package) {
				p.Integrity = "3d321af3eab939b083c8f929a1d12cda81c26b6b"
				p.Resolved = "https://registry.yarnpkg.com/picocolors/-/picocolors-1.1.1.tgz#3d321af3eab939b083c8f929a1d12cda81c26b6b"
			}),
		},
	}
	return []*lockfile.Graph{npmGraph, yarnGraph}
}

var testWriteOptions = WriteOptions{
	Timestamp:    time.Date(2026, 11, 28, 12, 0, 0, 0, time.FixedZone("CET", 3600)),
	ToolVersion:  "0.1.0-test",
	SerialNumber: "urn:uuid:6c0f5e2a-3b1d-4c8e-9f7a-2d4b6e8a0c1f",
}

func TestWriteCycloneDXGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, testGraphs(), testWriteOptions); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "write.cdx.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update after checking the change):\n%s", golden, buf.String())
	}
}

func TestWriteCycloneDXDeterministic(t *testing.T) {
	var first bytes.Buffer
	if err := WriteCycloneDX(&first, testGraphs(), testWriteOptions); err != nil {
		t.Fatal(err)
	}
	for range 20 { // map iteration order differs between runs
		var again bytes.Buffer
		if err := WriteCycloneDX(&again, testGraphs(), testWriteOptions); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), again.Bytes()) {
			t.Fatal("two writes of the same graphs differ")
		}
	}
}

// TestWriteCycloneDXRoundTrip reads the written BOM back: the same
// third-party set, and the edges, flags, hashes and URLs survive.
func TestWriteCycloneDXRoundTrip(t *testing.T) {
	graphs := testGraphs()
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, graphs, testWriteOptions); err != nil {
		t.Fatal(err)
	}
	g, err := CycloneDXReader{}.Parse(context.Background(), "vigil.cdx.json", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkGraph(t, g)

	var union []npm.PackageVersion
	for _, in := range graphs {
		union = append(union, in.ThirdParty()...)
	}
	slices.SortFunc(union, func(a, b npm.PackageVersion) int { return strings.Compare(a.String(), b.String()) })
	union = slices.Compact(union)
	got := g.ThirdParty()
	slices.SortFunc(got, func(a, b npm.PackageVersion) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, union) {
		t.Errorf("ThirdParty after the round trip:\n%v\nwant:\n%v", got, union)
	}

	// Lines are those of the components' braces in the golden file.
	want := []string{
		`importer "acme-app" path="." -> [@isaacs/string-locale-compare@1.1.0,debug@4.4.1,is-number@7.0.0,left-pad@1.3.0,ms@2.1.3,node-gyp-build@4.8.0,once@1.4.0,picocolors@1.1.1]`,
		`@isaacs/string-locale-compare@1.1.0 key=pkg:npm/%40isaacs/string-locale-compare@1.1.0 line=25 src=registry direct int=sha512-SQ7Kzhh`,
		`debug@4.4.1 key=pkg:npm/debug@4.4.1 line=40 src=registry direct int=sha512-KcKCqif resolved=https://registry.npmjs.org/debug/-/debug-4.4.1.tgz -> [ms@2.1.3]`,
		`is-number@7.0.0 key=pkg:npm/is-number@7.0.0 line=60 src=registry direct,optional`,
		`left-pad@1.3.0 key=pkg:npm/left-pad@1.3.0 line=68 src=git direct resolved=git+ssh://git@github.com/left-pad/left-pad.git#5d4b2d7`,
		`ms@2.1.3 key=pkg:npm/ms@2.1.3 line=82 src=registry direct int=sha512-6FlzubT resolved=https://registry.npmjs.org/ms/-/ms-2.1.3.tgz`,
		`node-gyp-build@4.8.0 key=pkg:npm/node-gyp-build@4.8.0 line=102 src=registry direct,optional,bundled int=sha512-u6fs2AE`,
		`once@1.4.0 key=pkg:npm/once@1.4.0 line=122 src=registry direct,dev int=sha512-lNaJgI+ -> [wrappy@1.0.2]`,
		`picocolors@1.1.1 key=pkg:npm/picocolors@1.1.1 line=142 src=registry direct int=sha1-PTIa8+q5O resolved=https://registry.yarnpkg.com/picocolors/-/picocolors-1.1.1.tgz#3d321af3eab939b083c8f929a1d12cda81c26b6b`,
		`wrappy@1.0.2 key=pkg:npm/wrappy@1.0.2 line=162 src=registry dev`,
	}
	if got := summarize(g); !slices.Equal(got, want) {
		t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWriteCycloneDXRoundTripFixtures writes every SBOM fixture back out
// and reads it again: the third-party set and the edges between
// third-party packages are unchanged.
func TestWriteCycloneDXRoundTripFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var r lockfile.Reader = CycloneDXReader{}
			if strings.HasSuffix(file, ".spdx.json") {
				r = SPDXReader{}
			}
			g := readFixture(t, r, filepath.Base(file))
			var buf bytes.Buffer
			if err := WriteCycloneDX(&buf, []*lockfile.Graph{g}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := CycloneDXReader{}.Parse(context.Background(), "back.cdx.json", buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got, want := back.ThirdParty(), g.ThirdParty(); !slices.Equal(got, want) {
				t.Errorf("ThirdParty: got %v, want %v", got, want)
			}
			if got, want := edgeSet(back), edgeSet(g); !slices.Equal(got, want) {
				t.Errorf("edges:\n%v\nwant:\n%v", got, want)
			}
		})
	}
}

// edgeSet lists the package-to-package edges of g as sorted
// "name@version -> name@version" strings.
func edgeSet(g *lockfile.Graph) []string {
	var out []string
	for _, p := range g.Packages {
		for _, d := range p.Dependencies {
			out = append(out, p.PackageVersion.String()+" -> "+g.Packages[d].PackageVersion.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestWriteCycloneDXOptions(t *testing.T) {
	if err := WriteCycloneDX(&bytes.Buffer{}, nil, WriteOptions{SerialNumber: "1234"}); err == nil || !strings.Contains(err.Error(), "urn:uuid") {
		t.Errorf("bad serial number: error %v", err)
	}

	tests := []struct {
		name   string
		graphs []*lockfile.Graph
		opts   WriteOptions
		want   []string // substrings of the output
		absent []string
	}{
		{
			name:   "no graphs: an empty but valid BOM",
			graphs: []*lockfile.Graph{nil},
			want:   []string{`"specVersion": "1.6"`, `"name": "project"`, `"components": []`, `"ref": "project-root"`},
			absent: []string{`"timestamp"`, `"serialNumber"`},
		},
		{
			name:   "project named after the lockfile's folder",
			graphs: []*lockfile.Graph{{File: "/src/shop/pnpm-lock.yaml", Importers: []lockfile.Importer{{Path: "."}}}},
			want:   []string{`"name": "shop"`},
		},
		{
			name:   "explicit project name",
			graphs: testGraphs(),
			opts:   WriteOptions{ProjectName: "Acme Shop"},
			want:   []string{`"name": "Acme Shop"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCycloneDX(&buf, tt.graphs, tt.opts); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("output lacks %s:\n%s", s, buf.String())
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(buf.String(), s) {
					t.Errorf("output has %s", s)
				}
			}
		})
	}
}
