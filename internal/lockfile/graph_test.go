package lockfile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/npm"
)

func pkg(name, version string, deps ...int) Package {
	return Package{PackageVersion: npm.PackageVersion{Name: name, Version: version}, Source: SourceRegistry, Dependencies: deps}
}

// testGraph: root → a → c → d, root → b → c, web (workspace) → d; e unreachable;
// a cycle c → f → c.
func testGraph() *Graph {
	return &Graph{
		Importers: []Importer{
			{Name: "root", Path: "", Dependencies: []int{0, 1}},
			{Path: "packages/web", Dependencies: []int{3}},
		},
		Packages: []Package{
			pkg("a", "1.0.0", 2),    // 0
			pkg("b", "1.0.0", 2),    // 1
			pkg("c", "1.0.0", 3, 5), // 2
			pkg("d", "1.0.0"),       // 3
			pkg("e", "1.0.0"),       // 4
			pkg("f", "1.0.0", 2),    // 5
		},
	}
}

func render(ps []Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.Join(p, " > "))
	}
	return out
}

func TestPathsTo(t *testing.T) {
	g := testGraph()
	tests := []struct {
		target, limit int
		want          []string
	}{
		{3, 5, []string{"packages/web > d@1.0.0", "root > a@1.0.0 > c@1.0.0 > d@1.0.0", "root > b@1.0.0 > c@1.0.0 > d@1.0.0"}},
		{3, 1, []string{"packages/web > d@1.0.0"}},
		{0, 3, []string{"root > a@1.0.0"}},
		{5, 3, []string{"root > a@1.0.0 > c@1.0.0 > f@1.0.0", "root > b@1.0.0 > c@1.0.0 > f@1.0.0"}},
		{4, 3, []string{"e@1.0.0"}}, // unreachable: the package alone
	}
	pf := g.PathFinder()
	for _, tt := range tests {
		if got := render(pf.PathsTo(tt.target, tt.limit)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("PathsTo(%d, %d) = %q, want %q", tt.target, tt.limit, got, tt.want)
		}
	}
}

func TestThirdPartySkipsOwnPackages(t *testing.T) {
	g := testGraph()
	g.Packages = append(g.Packages,
		Package{PackageVersion: npm.PackageVersion{Name: "@acme/web", Version: "0.0.0"}, Source: SourceWorkspace},
		Package{PackageVersion: npm.PackageVersion{Name: "linked", Version: "0.0.0"}, Source: SourceLink},
		pkg("a", "1.0.0"), // a second instance of a@1.0.0
		Package{PackageVersion: npm.PackageVersion{Name: "g", Version: "1.0.0"}, Source: SourceGit},
	)
	var got []string
	for _, pv := range g.ThirdParty() {
		got = append(got, pv.String())
	}
	want := []string{"a@1.0.0", "b@1.0.0", "c@1.0.0", "d@1.0.0", "e@1.0.0", "f@1.0.0", "g@1.0.0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ThirdParty = %v, want %v", got, want)
	}
}

func TestLineIndex(t *testing.T) {
	x := NewLineIndex([]byte("ab\ncd\n\nx"))
	tests := []struct{ off, line, col int }{{0, 1, 1}, {1, 1, 2}, {3, 2, 1}, {6, 3, 1}, {7, 4, 1}}
	for _, tt := range tests {
		if l, c := x.Position(tt.off); l != tt.line || c != tt.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", tt.off, l, c, tt.line, tt.col)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	e := &ParseError{File: "yarn.lock", Line: 12, Column: 3, Msg: "expected a version"}
	if e.Error() != "yarn.lock:12:3: expected a version" {
		t.Errorf("Error() = %q", e.Error())
	}
}
