package sbom

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

func TestSPDXMatches(t *testing.T) {
	for base, want := range map[string]bool{
		"spdx.json":        true,
		"app.spdx.json":    true,
		"SBOM.SPDX.JSON":   true,
		"bom.json":         false,
		"app.spdx":         false, // tag-value, not JSON
		"app.spdx.yaml":    false,
		"app.spdx.rdf.xml": false,
	} {
		if got := (SPDXReader{}).Matches(base); got != want {
			t.Errorf("Matches(%q) = %v, want %v", base, got, want)
		}
	}
}

func TestSPDXFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{
			// npm 11.19.1: npm sbom --sbom-format spdx --package-lock-only.
			// The dev and optional flags come from DEV_DEPENDENCY_OF and
			// OPTIONAL_DEPENDENCY_OF, carried down to wrappy.
			file: "npm-lockonly.spdx.json",
			want: []string{
				`importer "vigil-sbom-fixture" path="." -> [@isaacs/string-locale-compare@1.1.0,debug@4.4.1,is-number@7.0.0,once@1.4.0]`,
				`@isaacs/string-locale-compare@1.1.0 key=SPDXRef-Package-isaacs.string-locale-compare-1.1.0 line=35 src=registry direct int=sha512-SQ7Kzhh`,
				`debug@4.4.1 key=SPDXRef-Package-debug-4.4.1 line=58 src=registry direct int=sha512-KcKCqif -> [ms@2.1.3]`,
				`is-number@7.0.0 key=SPDXRef-Package-is-number-7.0.0 line=81 src=registry direct,optional int=sha512-41Cifkg`,
				`ms@2.1.3 key=SPDXRef-Package-ms-2.1.3 line=104 src=registry int=sha512-6FlzubT`,
				`once@1.4.0 key=SPDXRef-Package-once-1.4.0 line=127 src=registry direct,dev int=sha512-lNaJgI+ -> [wrappy@1.0.2]`,
				`wrappy@1.0.2 key=SPDXRef-Package-wrappy-1.0.2 line=150 src=registry dev int=sha512-l4Sp/DR`,
			},
		},
		{
			file: "npm-workspace.spdx.json",
			want: []string{
				`importer "vigil-ws-fixture" path="." -> [picocolors@1.1.1,@vigil-fixture/app@0.2.0]`,
				`escape-string-regexp@4.0.0 key=SPDXRef-Package-escape-string-regexp-4.0.0 line=35 src=registry int=sha512-TtpcNJ3`,
				`ms@2.1.2 key=SPDXRef-Package-ms-2.1.2 line=59 src=registry int=sha512-sGkPx+V`,
				`picocolors@1.1.1 key=SPDXRef-Package-picocolors-1.1.1 line=83 src=registry direct int=sha512-xceH2sn`,
				`@vigil-fixture/app@0.2.0 key=SPDXRef-Package-vigil-fixture.app-0.2.0 line=107 src=registry direct -> [escape-string-regexp@4.0.0,ms@2.1.2]`,
			},
		},
		{
			// DESCRIBES relationship instead of documentDescribes;
			// DEPENDS_ON and CONTAINED_BY for the same pair; a peer via
			// PREREQUISITE_FOR; SPDX 2.2's PACKAGE_MANAGER; a CPE before
			// the purl; a PyPI package, NOASSERTION and an element of an
			// external document ignored; a git download location.
			file: "handmade.spdx.json",
			want: []string{
				`importer "acme-app" path="." -> [debug@4.4.1,once@1.4.0,is-number@7.0.0,left-pad@1.3.0]`,
				`debug@4.4.1 key=SPDXRef-Package-debug line=39 src=registry direct int=sha512-KcKCqif resolved=https://registry.npmjs.org/debug/-/debug-4.4.1.tgz -> [ms@2.1.3,@isaacs/string-locale-compare@1.1.0]`,
				`ms@2.1.3 key=SPDXRef-Package-ms line=69 src=registry int=sha1-V0yBOM4dK`,
				`once@1.4.0 key=SPDXRef-Package-once line=88 src=registry direct,dev resolved=https://registry.npmjs.org/once/-/once-1.4.0.tgz -> [wrappy@1.0.2]`,
				`wrappy@1.0.2 key=SPDXRef-Package-wrappy line=101 src=registry dev resolved=https://registry.npmjs.org/wrappy/-/wrappy-1.0.2.tgz`,
				`is-number@7.0.0 key=SPDXRef-Package-is-number line=114 src=registry direct,optional`,
				`@isaacs/string-locale-compare@1.1.0 key=SPDXRef-Package-isaacs.string-locale-compare line=127 src=registry peer`,
				`left-pad@1.3.0 key=SPDXRef-Package-left-pad line=140 src=git direct resolved=git+https://github.com/left-pad/left-pad.git@5d4b2d7`,
			},
		},
		{
			// The shape syft writes for a scanned folder: the described
			// folder CONTAINS every package, which then are all direct.
			file: "contains.spdx.json",
			want: []string{
				`importer "/src/webapp" path="." -> [debug@4.4.1,ms@2.1.3,ms@2.0.0]`,
				`debug@4.4.1 key=SPDXRef-Package-npm-debug-1 line=23 src=registry direct -> [ms@2.1.3]`,
				`ms@2.1.3 key=SPDXRef-Package-npm-ms-2 line=36 src=registry direct`,
				`ms@2.0.0 key=SPDXRef-Package-npm-ms-3 line=49 src=registry direct`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			g := readFixture(t, SPDXReader{}, tt.file)
			if g.Format != lockfile.FormatSPDX {
				t.Errorf("Format = %q", g.Format)
			}
			if got := summarize(g); !slices.Equal(got, tt.want) {
				t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// spdxDocument wraps packages and relationships (JSON array bodies) in an
// SPDX 2.3 envelope.
func spdxDocument(describes, packages, relationships string) string {
	return "{\n" +
		`"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "t", "dataLicense": "CC0-1.0",` + "\n" +
		`"documentDescribes": [` + describes + "],\n" +
		`"packages": [` + packages + "],\n" +
		`"relationships": [` + relationships + "]\n}\n"
}

func spdxPkg(id, purl string) string {
	return `{"SPDXID": "` + id + `", "name": "` + id + `", "downloadLocation": "NOASSERTION", "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "` + purl + `"}]}`
}

func spdxRel(from, typ, to string) string {
	return `{"spdxElementId": "` + from + `", "relationshipType": "` + typ + `", "relatedSpdxElement": "` + to + `"}`
}

func TestSPDXGraphs(t *testing.T) {
	app := `{"SPDXID": "SPDXRef-app", "name": "app", "downloadLocation": "NONE"}`
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "nothing described: an unnamed root with no dependencies",
			doc:  spdxDocument("", spdxPkg("SPDXRef-a", "pkg:npm/a@1.0.0"), ""),
			want: []string{`importer "" path="." -> []`, `a@1.0.0 key=SPDXRef-a line=4 src=registry`},
		},
		{
			name: "dependency relationships win over CONTAINS for the root",
			doc: spdxDocument(`"SPDXRef-app"`, app+","+spdxPkg("SPDXRef-a", "pkg:npm/a@1.0.0")+","+spdxPkg("SPDXRef-b", "pkg:npm/b@1.0.0"),
				spdxRel("SPDXRef-app", "CONTAINS", "SPDXRef-a")+","+spdxRel("SPDXRef-app", "CONTAINS", "SPDXRef-b")+","+spdxRel("SPDXRef-app", "DEPENDS_ON", "SPDXRef-a")+","+spdxRel("SPDXRef-a", "CONTAINS", "SPDXRef-b")),
			want: []string{
				`importer "app" path="." -> [a@1.0.0]`,
				`a@1.0.0 key=SPDXRef-a line=4 src=registry direct -> [b@1.0.0]`,
				`b@1.0.0 key=SPDXRef-b line=4 src=registry`,
			},
		},
		{
			name: "several described packages; a non-npm package depending on npm ones becomes an importer",
			doc: spdxDocument(`"SPDXRef-app", "SPDXRef-cli"`,
				app+","+spdxPkg("SPDXRef-cli", "pkg:npm/%40acme/cli@2.0.0")+","+`{"SPDXID": "SPDXRef-lib", "name": "lib", "downloadLocation": "NONE"}`+","+spdxPkg("SPDXRef-a", "pkg:npm/a@1.0.0")+","+spdxPkg("SPDXRef-b", "pkg:npm/b@1.0.0"),
				spdxRel("SPDXRef-app", "DEPENDS_ON", "SPDXRef-lib")+","+spdxRel("SPDXRef-a", "DEPENDENCY_OF", "SPDXRef-lib")+","+spdxRel("SPDXRef-b", "RUNTIME_DEPENDENCY_OF", "SPDXRef-cli")+","+spdxRel("SPDXRef-cli", "DEPENDS_ON", "SPDXRef-app")),
			want: []string{
				`importer "app" path="." -> []`,
				`importer "@acme/cli" path="SPDXRef-cli" -> [b@1.0.0]`,
				`importer "lib" path="SPDXRef-lib" -> [a@1.0.0]`,
				`a@1.0.0 key=SPDXRef-a line=4 src=registry direct`,
				`b@1.0.0 key=SPDXRef-b line=4 src=registry direct`,
			},
		},
		{
			name: "flags: dev beats prod only when every path is dev; devOptional; cycles",
			doc: spdxDocument(`"SPDXRef-app"`,
				app+","+spdxPkg("SPDXRef-d", "pkg:npm/d@1.0.0")+","+spdxPkg("SPDXRef-o", "pkg:npm/o@1.0.0")+","+spdxPkg("SPDXRef-s", "pkg:npm/s@1.0.0")+","+spdxPkg("SPDXRef-x", "pkg:npm/x@1.0.0")+","+spdxPkg("SPDXRef-p", "pkg:npm/p@1.0.0"),
				strings.Join([]string{
					spdxRel("SPDXRef-d", "DEV_DEPENDENCY_OF", "SPDXRef-app"),
					spdxRel("SPDXRef-o", "OPTIONAL_DEPENDENCY_OF", "SPDXRef-app"),
					spdxRel("SPDXRef-x", "DEPENDENCY_OF", "SPDXRef-d"), // x: via dev d and via optional o
					spdxRel("SPDXRef-x", "DEPENDENCY_OF", "SPDXRef-o"),
					spdxRel("SPDXRef-s", "DEPENDENCY_OF", "SPDXRef-d"), // s: via dev d, and by prod p
					spdxRel("SPDXRef-app", "DEPENDS_ON", "SPDXRef-p"),
					spdxRel("SPDXRef-p", "DEPENDS_ON", "SPDXRef-s"),
					spdxRel("SPDXRef-s", "DEPENDS_ON", "SPDXRef-p"), // a cycle
					spdxRel("SPDXRef-p", "DEPENDS_ON", "SPDXRef-p"), // a self-loop
				}, ",")),
			want: []string{
				`importer "app" path="." -> [d@1.0.0,o@1.0.0,p@1.0.0]`,
				`d@1.0.0 key=SPDXRef-d line=4 src=registry direct,dev -> [s@1.0.0,x@1.0.0]`,
				`o@1.0.0 key=SPDXRef-o line=4 src=registry direct,optional -> [x@1.0.0]`,
				`s@1.0.0 key=SPDXRef-s line=4 src=registry -> [p@1.0.0]`,
				`x@1.0.0 key=SPDXRef-x line=4 src=registry devOptional`,
				`p@1.0.0 key=SPDXRef-p line=4 src=registry direct -> [s@1.0.0]`,
			},
		},
		{
			name: "duplicate SPDXIDs and packages without one keep unique keys",
			doc:  spdxDocument("", spdxPkg("SPDXRef-a", "pkg:npm/a@1.0.0")+","+spdxPkg("SPDXRef-a", "pkg:npm/b@1.0.0")+","+spdxPkg("", "pkg:npm/c@1.0.0")+", null", ""),
			want: []string{
				`importer "" path="." -> []`,
				`a@1.0.0 key=SPDXRef-a line=4 src=registry`,
				`b@1.0.0 key=SPDXRef-a#2 line=4 src=registry`,
				`c@1.0.0 key=pkg:npm/c@1.0.0 line=4 src=registry`,
			},
		},
		{
			name: "SPDX 2.2, DESCRIBED_BY, version from versionInfo",
			doc: strings.Replace(spdxDocument("", app+","+`{"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": "3.0.0", "downloadLocation": "https://registry.npmjs.org/a/-/a-3.0.0.tgz", "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/a"}]}`,
				spdxRel("SPDXRef-app", "DESCRIBED_BY", "SPDXRef-DOCUMENT")+","+spdxRel("SPDXRef-app", "HAS_PREREQUISITE", "SPDXRef-a")), "SPDX-2.3", "SPDX-2.2", 1),
			want: []string{
				`importer "app" path="." -> [a@3.0.0]`,
				`a@3.0.0 key=SPDXRef-a line=4 src=registry direct,peer resolved=https://registry.npmjs.org/a/-/a-3.0.0.tgz`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := SPDXReader{}.Parse(context.Background(), "sbom.spdx.json", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, g)
			if got := summarize(g); !slices.Equal(got, tt.want) {
				t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestSPDXErrors(t *testing.T) {
	tests := []errorCase{
		{"empty", "", "", "empty file"},
		{"truncated", `{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "x"`, atEnd, "unexpected end of JSON input"},
		{"packages object", `{"spdxVersion": "SPDX-2.3", "packages": {}}`, "{}}", "packages: expected an array, found an object"},
		{"package string", `{"spdxVersion": "SPDX-2.3", "packages": ["x"]}`, `"x"`, "packages[0]: expected an object, found a string"},
		{"externalRefs object", spdxDocument("", `{"SPDXID": "SPDXRef-a", "externalRefs": {}}`, ""), "{}}", `packages[0].externalRefs: expected an array of {"referenceCategory", "referenceType", "referenceLocator"} objects, found a JSON object`},
		{"bad checksum", spdxDocument("", `{"SPDXID": "SPDXRef-a", "checksums": [{"algorithm": "SHA512", "checksumValue": "abc"}], "externalRefs": [{"referenceType": "purl", "referenceLocator": "pkg:npm/a@1.0.0"}]}`, ""), `[{"algorithm"`, "packages[0].checksums[0]: expected a SHA512 digest of 128 hex digits"},
		{"bad purl", spdxDocument("", spdxPkg("SPDXRef-a", "pkg:npm/..@1.0.0"), ""), `[{"referenceCategory"`, `packages[0].externalRefs: purl "pkg:npm/..@1.0.0": package name "..": must not start with . or _`},
		{"relationships wrong", spdxDocument("", "", `{"spdxElementId": 1}`), `1}`, `relationships: expected an array of {"spdxElementId", "relationshipType", "relatedSpdxElement"} objects, found a JSON number at "spdxElementId"`},
		{"documentDescribes wrong", `{"spdxVersion": "SPDX-2.3", "documentDescribes": "x"}`, `"x"`, "documentDescribes: expected an array of SPDX identifiers"},
		{"no spdxVersion", `{"SPDXID": "SPDXRef-DOCUMENT", "packages": []}`, "", `not an SPDX document: expected a top-level "spdxVersion": "SPDX-2.3"`},
		{"SPDX 3", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`, "", "SPDX 3 JSON-LD"},
		{"SPDX 2.1", `{"spdxVersion": "SPDX-2.1"}`, `"SPDX-2.1"`, `unsupported spdxVersion "SPDX-2.1"`},
		{"CycloneDX", `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "x"}`, "", "this is a CycloneDX BOM, not an SPDX document"},
		{"npm lockfile", `{"lockfileVersion": 3, "packages": {}}`, "", "this is an npm lockfile, not an SPDX document"},
		{"syntax error", "{\"spdxVersion\": \"SPDX-2.3\",\n \"packages\": [{} 2]}", "2]", "invalid character '2' after array element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, SPDXReader{}, "sbom.spdx.json") })
	}
}

func TestSPDXLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := SPDXReader{}.Parse(ctx, "sbom.spdx.json", []byte(spdxDocument("", spdxPkg("SPDXRef-a", "pkg:npm/a@1.0.0"), "")))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "sbom.spdx.json") {
		t.Errorf("canceled context: error %v, want context.Canceled naming the file", err)
	}
	_, err = SPDXReader{}.Parse(context.Background(), "sbom.spdx.json", make([]byte, lockfile.MaxFileSize+1))
	if !errors.Is(err, lockfile.ErrTooLarge) {
		t.Errorf("oversized input: error %v, want ErrTooLarge", err)
	}
}
