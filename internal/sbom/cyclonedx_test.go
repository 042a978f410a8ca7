package sbom

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

func TestCycloneDXMatches(t *testing.T) {
	for base, want := range map[string]bool{
		"bom.json":          true,
		"BOM.json":          true,
		"sbom.cdx.json":     true,
		"app.cdx.json":      true,
		"cyclonedx.json":    true,
		"frontend.bom.json": true,
		"sbom.json":         false, // could be either format: left to content sniffing by the caller
		"bom.xml":           false,
		"app.spdx.json":     false,
		"package-lock.json": false,
		"cdx.json.bak":      false,
	} {
		if got := (CycloneDXReader{}).Matches(base); got != want {
			t.Errorf("Matches(%q) = %v, want %v", base, got, want)
		}
	}
}

func readFixture(t *testing.T, r lockfile.Reader, name string) *lockfile.Graph {
	t.Helper()
	path := filepath.Join("testdata", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Parse(context.Background(), path, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	if g.File != path {
		t.Errorf("Graph.File = %q, want %q", g.File, path)
	}
	checkGraph(t, g)
	return g
}

// checkGraph asserts the invariants every Graph must keep, whatever the
// input: indices in range, unique keys, locations in the file.
func checkGraph(t testing.TB, g *lockfile.Graph) {
	t.Helper()
	if len(g.Importers) == 0 {
		t.Errorf("graph has no importer")
	}
	keys := map[string]bool{}
	for i, p := range g.Packages {
		if keys[p.Key] {
			t.Errorf("package %d: duplicate key %q", i, p.Key)
		}
		keys[p.Key] = true
		if p.Name == "" {
			t.Errorf("package %d: empty name", i)
		}
		if p.Location.File != g.File || p.Location.Line < 1 || p.Location.Column < 1 {
			t.Errorf("package %d: location %+v", i, p.Location)
		}
		for _, d := range p.Dependencies {
			if d < 0 || d >= len(g.Packages) || d == i {
				t.Errorf("package %d: dependency index %d", i, d)
			}
		}
	}
	for i, imp := range g.Importers {
		for _, d := range imp.Dependencies {
			if d < 0 || d >= len(g.Packages) {
				t.Errorf("importer %d: dependency index %d", i, d)
			} else if !g.Packages[d].Direct {
				t.Errorf("importer %d: dependency %d not marked direct", i, d)
			}
		}
	}
}

func TestCycloneDXFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{
			// npm 11.19.1: npm sbom --sbom-format cyclonedx --package-lock-only
			file: "npm-lockonly.cdx.json",
			want: []string{
				`importer "vigil-sbom-fixture" path="." -> [@isaacs/string-locale-compare@1.1.0,debug@4.4.1,is-number@7.0.0,once@1.4.0]`,
				`@isaacs/string-locale-compare@1.1.0 key=@isaacs/string-locale-compare@1.1.0 line=38 src=registry direct int=sha512-SQ7Kzhh`,
				`debug@4.4.1 key=debug@4.4.1 line=61 src=registry direct int=sha512-KcKCqif -> [ms@2.1.3]`,
				`is-number@7.0.0 key=is-number@7.0.0 line=84 src=registry direct,optional int=sha512-41Cifkg`,
				`ms@2.1.3 key=ms@2.1.3 line=107 src=registry int=sha512-6FlzubT`,
				`once@1.4.0 key=once@1.4.0 line=130 src=registry direct,dev int=sha512-lNaJgI+ -> [wrappy@1.0.2]`,
				`wrappy@1.0.2 key=wrappy@1.0.2 line=158 src=registry dev int=sha512-l4Sp/DR`,
			},
		},
		{
			// npm 11.19.1 over an installed workspace project with an
			// npm: alias. The workspace package itself is
			// indistinguishable from a registry package in npm's output.
			file: "npm-workspace.cdx.json",
			want: []string{
				`importer "vigil-ws-fixture" path="." -> [picocolors@1.1.1,@vigil-fixture/app@0.2.0]`,
				`escape-string-regexp@4.0.0 key=escape-string-regexp@4.0.0 line=38 src=registry int=sha512-TtpcNJ3`,
				`ms@2.1.2 key=ms@2.1.2 line=63 src=registry alias=ms-alias int=sha512-sGkPx+V`,
				`picocolors@1.1.1 key=picocolors@1.1.1 line=87 src=registry direct int=sha512-xceH2sn`,
				`@vigil-fixture/app@0.2.0 key=@vigil-fixture/app@0.2.0 line=112 src=registry direct -> [escape-string-regexp@4.0.0,ms@2.1.2]`,
			},
		},
		{
			// 1.4: legacy tools array; the strongest of SHA-1/SHA-512 wins;
			// unencoded @scope purl with the scope in group; a Maven
			// component that depends on an npm package becomes an
			// importer; a file component without purl is skipped.
			file: "spec-1.4.cdx.json",
			want: []string{
				`importer "acme-web" path="." -> [debug@4.4.1,@isaacs/string-locale-compare@1.1.0]`,
				`importer "org.example/lib" path="pkg:maven/org.example/lib@1.0.0" -> [wrappy@1.0.2]`,
				`debug@4.4.1 key=pkg:npm/debug@4.4.1 line=25 src=registry direct int=sha512-KcKCqif -> [ms@2.1.3]`,
				`ms@2.1.3 key=pkg:npm/ms@2.1.3 line=49 src=registry int=sha1-V0yBOM4dK resolved=https://registry.npmjs.org/ms/-/ms-2.1.3.tgz`,
				`@isaacs/string-locale-compare@1.1.0 key=pkg:npm/%40isaacs/string-locale-compare@1.1.0 line=72 src=registry direct`,
				`wrappy@1.0.2 key=pkg:npm/wrappy@1.0.2 line=88 src=registry direct`,
			},
		},
		{
			// 1.5: tools object; nested components inside a non-npm
			// application, which becomes an importer; scope excluded,
			// the development and bundled properties; upper-case hex
			// and purl type; a git dependency from the vcs_url qualifier.
			file: "spec-1.5.cdx.json",
			want: []string{
				`importer "monorepo" path="." -> [left-pad@1.3.0]`,
				`importer "frontend" path="frontend" -> [once@1.4.0,is-number@7.0.0]`,
				`once@1.4.0 key=once line=33 src=registry direct,dev int=sha512-lNaJgI+ -> [wrappy@1.0.2]`,
				`wrappy@1.0.2 key=wrappy line=47 src=registry dev,bundled`,
				`is-number@7.0.0 key=is-number line=66 src=registry direct,optional`,
				`left-pad@1.3.0 key=left-pad-git line=76 src=git direct resolved=git+ssh://git@github.com/left-pad/left-pad.git#5d4b2d7`,
			},
		},
		{
			// 1.6: new fields skipped (omniborId, tags, cryptoProperties);
			// BLAKE3 ignored; a private registry and a plain tarball URL;
			// an aliased package (name differs from the purl's).
			file: "spec-1.6.cdx.json",
			want: []string{
				`importer "@acme/service" path="." -> [debug@4.4.1,left-pad@1.3.0,ms@2.1.3]`,
				`debug@4.4.1 key=pkg:npm/debug@4.4.1 line=31 src=registry direct int=sha512-KcKCqif resolved=https://registry.npmjs.org/debug/-/debug-4.4.1.tgz -> [ms@2.1.3]`,
				`ms@2.1.3 key=pkg:npm/ms@2.1.3 line=67 src=registry int=sha512-6FlzubT resolved=https://npm.internal.example.com/repository/npm/ms/-/ms-2.1.3.tgz`,
				`left-pad@1.3.0 key=pkg:npm/left-pad@1.3.0 line=86 src=tarball direct resolved=https://cdn.example.com/builds/left-pad.tgz`,
				`ms@2.1.3 key=pkg:npm/my-ms@2.1.3 line=99 src=registry direct alias=my-ms`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			g := readFixture(t, CycloneDXReader{}, tt.file)
			if g.Format != lockfile.FormatCycloneDX {
				t.Errorf("Format = %q", g.Format)
			}
			if got := summarize(g); !slices.Equal(got, tt.want) {
				t.Errorf("graph:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestCycloneDXLocationPointsAtComponent checks that Location is the line
// of the component's opening brace, by looking at the file itself.
func TestCycloneDXLocationPointsAtComponent(t *testing.T) {
	for _, name := range []string{"npm-lockonly.cdx.json", "spec-1.5.cdx.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		g := readFixture(t, CycloneDXReader{}, name)
		for _, p := range g.Packages {
			line := lines[p.Location.Line-1]
			if p.Location.Column > len(line) || line[p.Location.Column-1] != '{' {
				t.Errorf("%s: %s at %d:%d is %q, want the component's '{'", name, p.PackageVersion, p.Location.Line, p.Location.Column, line)
			}
			// The component's purl follows within the object.
			if next := strings.Join(lines[p.Location.Line-1:min(len(lines), p.Location.Line+12)], "\n"); !strings.Contains(next, `"purl"`) {
				t.Errorf("%s: %s: no purl after line %d", name, p.PackageVersion, p.Location.Line)
			}
		}
	}
}

// cdxDoc wraps components (a JSON array body) and dependencies in a valid
// CycloneDX 1.6 envelope, one key per line so tests can state lines.
func cdxDocument(components, dependencies string) string {
	return "{\n" +
		`"bomFormat": "CycloneDX",` + "\n" +
		`"specVersion": "1.6",` + "\n" +
		`"metadata": {"component": {"bom-ref": "root", "type": "application", "name": "app"}},` + "\n" +
		`"components": [` + components + "],\n" +
		`"dependencies": [` + dependencies + "]\n}\n"
}

// errorCase is a malformed document and where the error must point: at
// the first occurrence of the marker at (the offending value), at 1:1 for
// at == "", or at the end of the input for at == atEnd.
type errorCase struct {
	name string
	doc  string
	at   string
	msg  string
}

const atEnd = "<end>"

func (tt errorCase) check(t *testing.T, r lockfile.Reader, file string) {
	t.Helper()
	_, err := r.Parse(context.Background(), file, []byte(tt.doc))
	var pe *lockfile.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *lockfile.ParseError", err, err)
	}
	off := 0
	switch tt.at {
	case "":
	case atEnd:
		off = len(tt.doc)
	default:
		off = strings.Index(tt.doc, tt.at)
		if off < 0 {
			t.Fatalf("marker %q not in the document", tt.at)
		}
	}
	line, col := lockfile.NewLineIndex([]byte(tt.doc)).Position(off)
	if pe.File != file || pe.Line != line || pe.Column != col || !strings.Contains(pe.Msg, tt.msg) {
		t.Errorf("error %q at %s:%d:%d\nwant %q at %s:%d:%d", pe.Msg, pe.File, pe.Line, pe.Column, tt.msg, file, line, col)
	}
}

func TestCycloneDXErrors(t *testing.T) {
	deep := `{"type": "library", "name": "x", "purl": "pkg:npm/x@1.0.0"}`
	for range maxNesting {
		deep = `{"type": "library", "name": "x", "components": [` + deep + `]}`
	}
	deep = strings.Replace(deep, `"components": [{"type": "library", "name": "x", "purl"`, `"components": ["deepest", {"type": "library", "name": "x", "purl"`, 1)
	tests := []errorCase{
		{"empty", "  \n", "", "empty file: expected a JSON object"},
		{"not JSON", "hello", "", "invalid JSON"},
		{"top-level array", "[1, 2]", "", "the document: expected an object, found an array"},
		{"top-level null", "null", "", "expected a JSON object at the top level"},
		{"truncated", "{\n\"bomFormat\": \"CycloneDX\",\n\"components\": [\n{\"purl\": \"pkg:npm/x@1.0.0\"", atEnd, "unexpected end of JSON input"},
		{"syntax error", cdxDocument("\n{\"purl\": \"pkg:npm/a@1.0.0\",}", ""), "}],", "invalid character '}'"},
		{"trailing garbage", cdxDocument("", "") + "x", "x", "after top-level value"},
		{"second object", cdxDocument("", "") + "{}", "{}", "unexpected data after the top-level object"},
		{"components object", `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}`, "{}", "components: expected an array, found an object"},
		{"purl number", cdxDocument("\n{\"name\": \"a\", \"purl\": 42}", ""), "42", "components[0].purl: expected a string, found a JSON number"},
		{"nested purl bool", cdxDocument(`{"name": "a", "components": [{}, {"purl": true}]}`, ""), "true", "components[0].components[1].purl: expected a string, found a JSON bool"},
		{"hashes string", cdxDocument(`{"purl": "pkg:npm/a@1.0.0", "hashes": "abc"}`, ""), `"abc"`, `components[0].hashes: expected an array of {"alg", "content"} objects, found a JSON string`},
		{"hash not hex", cdxDocument(`{"purl": "pkg:npm/a@1.0.0", "hashes": [{"alg": "SHA-512", "content": "zz"}]}`, ""), `[{"alg"`, `components[0].hashes[0]: expected a SHA-512 digest of 128 hex digits, found "zz"`},
		{"hash truncated", cdxDocument(`{"purl": "pkg:npm/a@1.0.0", "hashes": [{"alg": "MD5", "content": "00"}, {"alg": "SHA-1", "content": "574c8138"}]}`, ""), `[{"alg"`, "components[0].hashes[1]: expected a SHA-1 digest of 40 hex digits"},
		{"properties wrong", cdxDocument(`{"purl": "pkg:npm/a@1.0.0", "properties": [{"name": "x", "value": 1}]}`, ""), `1}]`, `components[0].properties: expected an array of {"name", "value"} objects, found a JSON number at "value"`},
		{"bad npm name", cdxDocument(`{"purl": "pkg:npm/@1.0.0"}`, ""), `"pkg:npm/@1.0.0"`, `components[0].purl: purl "pkg:npm/@1.0.0": package name "@1.0.0": a scoped name is @scope/name`},
		{"empty npm purl", cdxDocument(`{"purl": "pkg:npm/"}`, ""), `"pkg:npm/"`, `components[0].purl: malformed npm purl "pkg:npm/"`},
		{"dependencies wrong", cdxDocument("", `{"ref": "root", "dependsOn": "a"}`), `"a"}`, `dependencies: expected an array of {"ref", "dependsOn": [refs]} objects, found a JSON string at "dependsOn"`},
		{"dependencies not an array", cdxDocument("", "")[:strings.Index(cdxDocument("", ""), `"dependencies"`)] + `"dependencies": 7}`, "7}", `dependencies: expected an array of {"ref", "dependsOn": [refs]} objects, found a JSON number`},
		{"deep number in dependsOn", cdxDocument("", "{\"ref\": \"a\"},\n  {\"ref\": \"b\", \"dependsOn\": [\"x\", \"y\\\"z\", 7]}"), "7]", `found a JSON number at "dependsOn"`},
		{"deep escaped string for an array", cdxDocument("", "{\"ref\": \"a\"},\n  {\"ref\": \"b\", \"dependsOn\": \"a\\\"b\\\\\"}"), `"a\"b`, `found a JSON string at "dependsOn"`},
		{"deep object for a string", cdxDocument("", "{\"ref\": \"a\"},\n  {\"ref\": {\"x\": [1]}}"), `{"x"`, `found a JSON object at "ref"`},
		{"too deep", cdxDocument(deep, ""), `["deepest"`, "nested more than 64 levels deep"},
		{"no bomFormat", `{"specVersion": "1.6", "components": []}`, "", `not a CycloneDX BOM: expected a top-level "bomFormat": "CycloneDX"`},
		{"other bomFormat", "{\"specVersion\": \"1.6\",\n  \"bomFormat\": \"SWID\"}", `"SWID"`, `expected "bomFormat": "CycloneDX", found "SWID"`},
		{"bomFormat number", `{"bomFormat": 1}`, "1}", "bomFormat: expected a string, found a JSON number"},
		{"no specVersion", `{"bomFormat": "CycloneDX"}`, "", `CycloneDX BOM without "specVersion"`},
		{"unknown specVersion", `{"bomFormat": "CycloneDX", "specVersion": "2.0"}`, `"2.0"`, `unsupported CycloneDX specVersion "2.0"`},
		{"SPDX document", `{"spdxVersion": "SPDX-2.3", "packages": []}`, "", "this is an SPDX document, not a CycloneDX BOM"},
		{"npm lockfile", `{"name": "x", "lockfileVersion": 3, "packages": {"": {}}}`, "", "this is an npm lockfile"},
		// A type error in a file that is no BOM at all: the header, not
		// the type error, is what the user needs to hear.
		{"lockfile with type clash", `{"lockfileVersion": 3, "components": {"a": 1}}`, "", "this is an npm lockfile"},
		{"no header, bad purl", `{"components": [{"purl": "pkg:npm/"}]}`, "", "not a CycloneDX BOM"},
		{"metadata array", `{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": []}`, "[]", "metadata: expected an object, found an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, CycloneDXReader{}, "bom.json") })
	}
}

func TestCycloneDXTolerance(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "UTF-8 byte order mark, nulls for absent values",
			doc:  "\xEF\xBB\xBF" + `{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": null, "components": [null, {"purl": "pkg:npm/a@1.0.0", "hashes": null, "scope": null}], "dependencies": null}`,
			want: []string{
				`importer "" path="." -> []`,
				`a@1.0.0 key=pkg:npm/a@1.0.0 line=1 src=registry`,
			},
		},
		{
			name: "duplicate bom-refs keep both packages; edges go to the first",
			doc: cdxDocument(
				`{"bom-ref": "x", "purl": "pkg:npm/a@1.0.0"}, {"bom-ref": "x", "purl": "pkg:npm/b@1.0.0"}, {"purl": "pkg:npm/c@1.0.0"}, {"purl": "pkg:npm/c@1.0.0"}`,
				`{"ref": "root", "dependsOn": ["x", "x", "root", "nowhere"]}, {"ref": "x", "dependsOn": ["x"]}`),
			want: []string{
				`importer "app" path="." -> [a@1.0.0]`,
				`a@1.0.0 key=x line=5 src=registry direct`,
				`b@1.0.0 key=x#2 line=5 src=registry`,
				`c@1.0.0 key=pkg:npm/c@1.0.0 line=5 src=registry`,
				`c@1.0.0 key=pkg:npm/c@1.0.0#2 line=5 src=registry`,
			},
		},
		{
			name: "the described component listed again is not a package",
			doc: cdxDocument(`{"bom-ref": "root", "purl": "pkg:npm/app@1.0.0"}, {"bom-ref": "d", "purl": "pkg:npm/d@2.0.0"}`,
				`{"ref": "root", "dependsOn": ["d"]}`),
			want: []string{
				`importer "app" path="." -> [d@2.0.0]`,
				`d@2.0.0 key=d line=5 src=registry direct`,
			},
		},
		{
			name: "scope as group, with or without @, is no alias; version from the component when the purl has none",
			doc:  cdxDocument(`{"group": "@types", "name": "node", "purl": "pkg:npm/%40types/node@20.1.0"}, {"group": "types", "name": "react", "purl": "pkg:npm/@types/react@18.0.0"}, {"name": "node", "purl": "pkg:npm/%40types/node@20.2.0"}, {"name": "lodash", "version": "4.17.21", "purl": "pkg:npm/lodash"}`, ""),
			want: []string{
				`importer "app" path="." -> []`,
				`@types/node@20.1.0 key=pkg:npm/%40types/node@20.1.0 line=5 src=registry`,
				`@types/react@18.0.0 key=pkg:npm/@types/react@18.0.0 line=5 src=registry`,
				`@types/node@20.2.0 key=pkg:npm/%40types/node@20.2.0 line=5 src=registry`,
				`lodash@4.17.21 key=pkg:npm/lodash line=5 src=registry`,
			},
		},
		{
			name: "sources from distribution URLs and purl qualifiers",
			doc: cdxDocument(`{"purl": "pkg:npm/a@1.0.0", "externalReferences": [{"type": "distribution", "url": "file:../a"}]},
{"purl": "pkg:npm/b@1.0.0?download_url=https%3A%2F%2Fexample.com%2Fb.tgz"},
{"purl": "pkg:npm/c@1.0.0", "externalReferences": [{"type": "distribution", "url": "github:user/c#abc"}]},
{"purl": "pkg:npm/d@1.0.0", "externalReferences": [{"type": "vcs", "url": "https://github.com/x/d"}, {"type": "distribution", "url": "https://npm.pkg.github.com/download/@x/d/1.0.0/abc"}]}`, ""),
			want: []string{
				`importer "app" path="." -> []`,
				`a@1.0.0 key=pkg:npm/a@1.0.0 line=5 src=file resolved=file:../a`,
				`b@1.0.0 key=pkg:npm/b@1.0.0?download_url=https%3A%2F%2Fexample.com%2Fb.tgz line=6 src=tarball resolved=https://example.com/b.tgz`,
				`c@1.0.0 key=pkg:npm/c@1.0.0 line=7 src=git resolved=github:user/c#abc`,
				`d@1.0.0 key=pkg:npm/d@1.0.0 line=8 src=tarball resolved=https://npm.pkg.github.com/download/@x/d/1.0.0/abc`,
			},
		},
		{
			name: "spec 1.7 and unknown top-level sections",
			doc:  `{"bomFormat": "CycloneDX", "specVersion": "1.7", "citations": [{"x": [1, {"y": null}]}], "components": [{"purl": "pkg:npm/a@1.0.0", "licenses": [{"expression": "MIT"}], "evidence": {"identity": []}}]}`,
			want: []string{
				`importer "" path="." -> []`,
				`a@1.0.0 key=pkg:npm/a@1.0.0 line=1 src=registry`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := CycloneDXReader{}.Parse(context.Background(), "bom.json", []byte(tt.doc))
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

func TestCycloneDXLimits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := CycloneDXReader{}.Parse(ctx, "bom.json", []byte(cdxDocument(`{"purl": "pkg:npm/a@1.0.0"}`, "")))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "bom.json") {
		t.Errorf("canceled context: error %v, want context.Canceled naming the file", err)
	}

	// The pages of a large zeroed slice are never touched: the size check
	// comes first.
	_, err = CycloneDXReader{}.Parse(context.Background(), "bom.json", make([]byte, lockfile.MaxFileSize+1))
	if !errors.Is(err, lockfile.ErrTooLarge) {
		t.Errorf("oversized input: error %v, want ErrTooLarge", err)
	}
}

func ExampleCycloneDXReader() {
	doc := `{"bomFormat": "CycloneDX", "specVersion": "1.6",
  "metadata": {"component": {"bom-ref": "app", "type": "application", "name": "app"}},
  "components": [{"bom-ref": "d", "type": "library", "name": "debug", "purl": "pkg:npm/debug@4.4.1"},
                 {"bom-ref": "m", "type": "library", "name": "ms", "purl": "pkg:npm/ms@2.1.3"}],
  "dependencies": [{"ref": "app", "dependsOn": ["d"]}, {"ref": "d", "dependsOn": ["m"]}]}`
	g, err := CycloneDXReader{}.Parse(context.Background(), "bom.json", []byte(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, p := range g.Packages {
		fmt.Println(p.PackageVersion, "line", p.Location.Line, g.PathsTo(i, 1)[0])
	}
	// Output:
	// debug@4.4.1 line 3 [app debug@4.4.1]
	// ms@2.1.3 line 4 [app debug@4.4.1 ms@2.1.3]
}
