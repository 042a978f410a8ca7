package lockfile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// flagGraph builds a Graph from edges written "from>to:kind", where from
// "" is an importer and kind is one of prod, dev, opt, peer, peeropt,
// devopt (absent means prod). Every name mentioned becomes a package.
func flagGraph(t *testing.T, pkgs []string, edges []string) (*Graph, []Edge, func(from, k int) DepKind, map[string]int) {
	t.Helper()
	g := &Graph{}
	idx := make(map[string]int)
	add := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		idx[name] = len(g.Packages)
		g.Packages = append(g.Packages, Package{Key: name})
		return idx[name]
	}
	for _, p := range pkgs {
		add(p)
	}
	kinds := map[string]DepKind{"": KindProd, "prod": KindProd, "dev": KindDev, "opt": KindOptional,
		"peer": KindPeer, "peeropt": KindPeerOptional, "devopt": KindDev | KindOptional}
	var roots []Edge
	pkgKinds := make(map[int][]DepKind)
	for _, e := range edges {
		from, rest, ok := strings.Cut(e, ">")
		if !ok {
			t.Fatalf("bad edge %q", e)
		}
		to, ks, _ := strings.Cut(rest, ":")
		k, ok := kinds[ks]
		if !ok {
			t.Fatalf("bad kind in %q", e)
		}
		ti := add(to)
		if from == "" {
			roots = append(roots, Edge{To: ti, Kind: k})
			continue
		}
		fi := add(from)
		g.Packages[fi].Dependencies = append(g.Packages[fi].Dependencies, ti)
		pkgKinds[fi] = append(pkgKinds[fi], k)
	}
	kind := func(from, k int) DepKind { return pkgKinds[from][k] }
	return g, roots, kind, idx
}

// parseFlags reads "dev,opt" style expectations.
func parseFlags(s string) Flags {
	var f Flags
	for _, w := range strings.Split(s, ",") {
		switch w {
		case "":
		case "dev":
			f.Dev = true
		case "opt":
			f.Optional = true
		case "devopt":
			f.DevOptional = true
		case "peer":
			f.Peer = true
		default:
			panic("bad flag " + w)
		}
	}
	return f
}

func TestDepFlags(t *testing.T) {
	tests := []struct {
		name  string
		pkgs  []string // packages no edge mentions (unreachable ones)
		edges []string
		want  map[string]string // package -> its flags; every package must be listed
	}{
		{
			name:  "prod chain",
			edges: []string{">a", "a>b"},
			want:  map[string]string{"a": "", "b": ""},
		},
		{
			name:  "dev only",
			edges: []string{">a:dev", "a>b"},
			want:  map[string]string{"a": "dev", "b": "dev"},
		},
		{
			name:  "reached by prod and by dev is not dev",
			edges: []string{">a", ">b:dev", "b>a", "b>c"},
			want:  map[string]string{"a": "", "b": "dev", "c": "dev"},
		},
		{
			name:  "same package in dependencies and devDependencies",
			edges: []string{">a:dev", ">a"},
			want:  map[string]string{"a": ""},
		},
		{
			name:  "optional and what it needs",
			edges: []string{">a:opt", "a>b", "b>c:opt"},
			want:  map[string]string{"a": "opt", "b": "opt", "c": "opt"},
		},
		{
			name:  "optional edge below a prod package",
			edges: []string{">a", "a>b:opt", "b>c"},
			want:  map[string]string{"a": "", "b": "opt", "c": "opt"},
		},
		{
			name:  "optional under dev is dev and optional",
			edges: []string{">a:dev", "a>b:opt", "b>c"},
			want:  map[string]string{"a": "dev", "b": "dev,opt", "c": "dev,opt"},
		},
		{
			name:  "optional devDependency",
			edges: []string{">a:devopt", "a>b"},
			want:  map[string]string{"a": "dev,opt", "b": "dev,opt"},
		},
		{
			// npm's devOptional: needed by the dev tree and by the
			// optional part of the prod tree, with no path free of both.
			name:  "dev path and optional path give devOptional",
			edges: []string{">a:dev", ">b:opt", "a>c", "b>c", "c>d"},
			want:  map[string]string{"a": "dev", "b": "opt", "c": "devopt", "d": "devopt"},
		},
		{
			// every path crosses an optional edge: optional, and npm
			// omits devOptional when optional is set.
			name:  "optional prod path and optional-under-dev path give optional",
			edges: []string{">c:opt", ">a:dev", "a>c:opt"},
			want:  map[string]string{"a": "dev", "c": "opt"},
		},
		{
			name:  "devOptional cleared by a later required path",
			edges: []string{">a:dev", ">b:opt", "a>c", "b>c", ">x", "x>y", "y>c"},
			want:  map[string]string{"a": "dev", "b": "opt", "c": "", "x": "", "y": ""},
		},
		{
			name:  "peer only",
			edges: []string{">a", "a>p:peer", "p>q"},
			want:  map[string]string{"a": "", "p": "peer", "q": "peer"},
		},
		{
			name:  "importer peer dependency",
			edges: []string{">p:peer"},
			want:  map[string]string{"p": "peer"},
		},
		{
			name:  "peer that something also requires",
			edges: []string{">a", "a>p:peer", ">b", "b>p"},
			want:  map[string]string{"a": "", "b": "", "p": ""},
		},
		{
			name:  "optional peer",
			edges: []string{">a", "a>p:peeropt"},
			want:  map[string]string{"a": "", "p": "opt,peer"},
		},
		{
			name:  "peer of a dev dependency",
			edges: []string{">a:dev", "a>p:peer"},
			want:  map[string]string{"a": "dev", "p": "dev,peer"},
		},
		{
			name:  "cycle reached by dev only",
			edges: []string{">a:dev", "a>b", "b>c", "c>a"},
			want:  map[string]string{"a": "dev", "b": "dev", "c": "dev"},
		},
		{
			// the walk meets b through dev first and must go round the
			// cycle again once prod reaches it
			name:  "cycle reached by dev then by prod",
			edges: []string{">a:dev", "a>b", "b>c", "c>b", ">x", "x>c"},
			want:  map[string]string{"a": "dev", "b": "", "c": "", "x": ""},
		},
		{
			name:  "self-loop",
			edges: []string{">a:opt", "a>a"},
			want:  map[string]string{"a": "opt"},
		},
		{
			// a workspace is an importer of its own: what it needs in
			// dependencies is prod even when the root has it as dev, and
			// the workspace's package mirrors its importer's edges.
			name: "workspace importers",
			edges: []string{
				">ws", ">a:dev", // root importer: the workspace package, a devDependency
				">b", ">c:dev", "ws>b", // the workspace's importer edges and its package's
				"a>d", "c>d",
			},
			want: map[string]string{"ws": "", "a": "dev", "b": "", "c": "dev", "d": "dev"},
		},
		{
			// stale entries: nothing reaches them, and their edges count
			// for nothing either
			name:  "unreachable packages get no flags",
			pkgs:  []string{"stale", "loop1", "loop2"},
			edges: []string{">a:dev", "stale>a", "stale>b", "loop1>loop2", "loop2>loop1"},
			want:  map[string]string{"a": "dev", "b": "", "stale": "", "loop1": "", "loop2": ""},
		},
		{
			name:  "no importers",
			edges: []string{"a>b:dev", "b>c:opt"},
			want:  map[string]string{"a": "", "b": "", "c": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, roots, kind, idx := flagGraph(t, tt.pkgs, tt.edges)
			got := DepFlags(g, roots, kind)
			if len(got) != len(g.Packages) {
				t.Fatalf("got %d flags for %d packages", len(got), len(g.Packages))
			}
			if len(tt.want) != len(g.Packages) {
				t.Fatalf("test lists %d packages, graph has %d", len(tt.want), len(g.Packages))
			}
			for name, w := range tt.want {
				i, ok := idx[name]
				if !ok {
					t.Fatalf("no package %q", name)
				}
				if want := parseFlags(w); got[i] != want {
					t.Errorf("%s: got %+v, want %+v", name, got[i], want)
				}
			}
			// the order roots come in must not matter
			rev := make([]Edge, len(roots))
			for k, r := range roots {
				rev[len(roots)-1-k] = r
			}
			if again := DepFlags(g, rev, kind); fmt.Sprint(again) != fmt.Sprint(got) {
				t.Errorf("roots reversed: got %+v, want %+v", again, got)
			}
		})
	}
}

func TestDepFlagsNilKindIsProd(t *testing.T) {
	g, roots, _, idx := flagGraph(t, nil, []string{">a:dev", "a>b:opt", ">c", "c>d:peer"})
	got := DepFlags(g, roots, nil)
	for name, want := range map[string]Flags{"a": {Dev: true}, "b": {Dev: true}, "c": {}, "d": {}} {
		if got[idx[name]] != want {
			t.Errorf("%s: got %+v, want %+v", name, got[idx[name]], want)
		}
	}
}

func TestDepFlagsIgnoresBadIndices(t *testing.T) {
	g := &Graph{Packages: []Package{{Dependencies: []int{-1, 7, 1}}, {}}}
	got := DepFlags(g, []Edge{{To: 0, Kind: KindDev}, {To: 9}, {To: -3}}, nil)
	want := []Flags{{Dev: true}, {Dev: true}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestComputeFlagsOverwrites(t *testing.T) {
	g := &Graph{Packages: []Package{
		{Key: "a", Dependencies: []int{1}},
		{Key: "b", Dev: true, Optional: true, DevOptional: true, Peer: true}, // flags a reader set before
		{Key: "stale", Dev: true, Peer: true},                                // unreachable: cleared
	}}
	ComputeFlags(g, []Edge{{To: 0, Kind: KindOptional}}, nil)
	want := []Flags{{Optional: true}, {Optional: true}, {}}
	for i, p := range g.Packages {
		got := Flags{Dev: p.Dev, Optional: p.Optional, DevOptional: p.DevOptional, Peer: p.Peer}
		if got != want[i] {
			t.Errorf("%s: got %+v, want %+v", p.Key, got, want[i])
		}
	}
}

// TestDepFlagsMatchesReachability checks the single walk against the
// definition, one reachability pass per flag, on random graphs with
// cycles, duplicate edges and unreachable parts.
func TestDepFlagsMatchesReachability(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	allKinds := []DepKind{KindProd, KindProd, KindDev, KindOptional, KindPeer, KindPeerOptional, KindDev | KindOptional}
	for round := range 500 {
		n := 1 + rng.IntN(12)
		g := &Graph{Packages: make([]Package, n)}
		kinds := make([][]DepKind, n)
		for i := range n {
			for range rng.IntN(4) {
				g.Packages[i].Dependencies = append(g.Packages[i].Dependencies, rng.IntN(n))
				kinds[i] = append(kinds[i], allKinds[rng.IntN(len(allKinds))])
			}
		}
		var roots []Edge
		for range rng.IntN(4) {
			roots = append(roots, Edge{To: rng.IntN(n), Kind: allKinds[rng.IntN(len(allKinds))]})
		}
		kind := func(from, k int) DepKind { return kinds[from][k] }
		reach := func(avoid DepKind) []bool {
			seen := make([]bool, n)
			var stack []int
			for _, r := range roots {
				if r.Kind&avoid == 0 && !seen[r.To] {
					seen[r.To] = true
					stack = append(stack, r.To)
				}
			}
			for len(stack) > 0 {
				i := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for k, d := range g.Packages[i].Dependencies {
					if kinds[i][k]&avoid == 0 && !seen[d] {
						seen[d] = true
						stack = append(stack, d)
					}
				}
			}
			return seen
		}
		all, noDev, noOpt, noDevOpt, noPeer := reach(0), reach(KindDev), reach(KindOptional), reach(KindDev|KindOptional), reach(KindPeer)
		got := DepFlags(g, roots, kind)
		for i := range n {
			var want Flags
			if all[i] {
				want = Flags{Dev: !noDev[i], Optional: !noOpt[i], Peer: !noPeer[i]}
				want.DevOptional = !noDevOpt[i] && !want.Dev && !want.Optional
			}
			if got[i] != want {
				t.Fatalf("round %d, package %d: got %+v, want %+v\ngraph %+v\nkinds %v\nroots %v", round, i, got[i], want, g.Packages, kinds, roots)
			}
		}
	}
}
