package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// benchPackages is about the size of a large monorepo's lockfile.
const benchPackages = 20000

// benchGraph is a synthetic graph of n packages, each depending on up to
// three later ones, with an integrity and a registry URL like real ones.
func benchGraph(n int) *lockfile.Graph {
	g := &lockfile.Graph{File: "bench/package-lock.json", Importers: []lockfile.Importer{{Name: "bench", Path: "."}}}
	for i := range n {
		name := fmt.Sprintf("pkg-%05d", i)
		if i%5 == 0 {
			name = fmt.Sprintf("@scope%d/pkg-%05d", i%50, i)
		}
		p := lockfile.Package{
			PackageVersion: npm.PackageVersion{Name: name, Version: fmt.Sprintf("%d.%d.%d", i%7, i%13, i%3)},
			Integrity:      "sha512-KcKCqiftBJcZr++7ykoDIEwSa3XWowTfNPo92BYxjXiyYEVrUQh2aLyhxBCwww+heortUFxEJYcRzosstTEBYQ==",
			Resolved:       "https://registry.npmjs.org/" + name + "/-/x.tgz",
			Source:         lockfile.SourceRegistry,
			Dev:            i%4 == 0,
			Key:            "node_modules/" + name,
		}
		for _, d := range []int{i + 1, i*7 + 3, i*13 + 11} {
			if d < n {
				p.Dependencies = append(p.Dependencies, d)
			}
		}
		g.Packages = append(g.Packages, p)
		if i%100 == 0 {
			g.Importers[0].Dependencies = append(g.Importers[0].Dependencies, i)
		}
	}
	return g
}

func benchCycloneDX(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := WriteCycloneDX(&buf, []*lockfile.Graph{benchGraph(benchPackages)}, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchSPDX renders the same graph the way npm sbom writes SPDX.
func benchSPDX(b *testing.B) []byte {
	b.Helper()
	g := benchGraph(benchPackages)
	id := func(i int) string { return fmt.Sprintf("SPDXRef-Package-%d", i) }
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type sum struct {
		Algorithm string `json:"algorithm"`
		Value     string `json:"checksumValue"`
	}
	type pkg struct {
		Name     string `json:"name"`
		ID       string `json:"SPDXID"`
		Version  string `json:"versionInfo"`
		Download string `json:"downloadLocation"`
		Refs     []ref  `json:"externalRefs"`
		Sums     []sum  `json:"checksums"`
	}
	doc := map[string]any{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "documentDescribes": []string{"SPDXRef-root"}}
	pkgs := []pkg{{Name: "bench", ID: "SPDXRef-root", Download: "NOASSERTION"}}
	var rels []spdxRelationship
	for i, p := range g.Packages {
		pkgs = append(pkgs, pkg{Name: p.Name, ID: id(i), Version: p.Version, Download: p.Resolved,
			Refs: []ref{{"PACKAGE-MANAGER", "purl", npm.PURL(p.Name, p.Version)}},
			Sums: []sum{{"SHA512", "29c282aa27ed049719afefbbca4a03204c126b75d6a304df34fa3dd816318d78b260456b51087668bca1c410b0c30fa17a8aed505c44258711ce8b2cb5310161"}}})
		for _, d := range p.Dependencies {
			rels = append(rels, spdxRelationship{From: id(d), Type: "DEPENDENCY_OF", To: id(i)})
		}
	}
	for _, d := range g.Importers[0].Dependencies {
		rels = append(rels, spdxRelationship{From: id(d), Type: "DEV_DEPENDENCY_OF", To: "SPDXRef-root"})
	}
	doc["packages"], doc["relationships"] = pkgs, rels
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchRead(b *testing.B, r lockfile.Reader, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		g, err := r.Parse(context.Background(), "bench.json", data)
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Packages) != benchPackages {
			b.Fatalf("%d packages, want %d", len(g.Packages), benchPackages)
		}
	}
}

func BenchmarkCycloneDXReader(b *testing.B) { benchRead(b, CycloneDXReader{}, benchCycloneDX(b)) }

func BenchmarkSPDXReader(b *testing.B) { benchRead(b, SPDXReader{}, benchSPDX(b)) }

func BenchmarkWriteCycloneDX(b *testing.B) {
	graphs := []*lockfile.Graph{benchGraph(benchPackages)}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteCycloneDX(io.Discard, graphs, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
