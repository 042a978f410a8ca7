package lockfile

// DepKind is the kind of one dependency edge, as the dependent's manifest
// declares it. Kinds are bits: an edge may be both dev and optional (an
// optional devDependency, or a pair an SBOM relates both ways), and
// KindPeerOptional is a peer dependency marked optional in
// peerDependenciesMeta. The Graph does not keep edge kinds (PathFinder and
// the reports need none); readers hand them to DepFlags and ComputeFlags.
type DepKind uint8

const (
	KindProd     DepKind = 0
	KindDev      DepKind = 1 << (iota - 1) // devDependencies
	KindOptional                           // optionalDependencies
	KindPeer                               // peerDependencies

	KindPeerOptional = KindPeer | KindOptional
)

// Edge is one dependency of an importer: the package at index To of
// Graph.Packages, declared as Kind.
type Edge struct {
	To   int
	Kind DepKind
}

// Flags are the dependency flags npm writes into package-lock.json for one
// package. They follow Package's fields of the same names.
type Flags struct {
	Dev         bool // every path from an importer crosses a dev edge
	Optional    bool // every path crosses an optional edge
	DevOptional bool // every path crosses a dev or an optional edge, but neither alone is unavoidable
	Peer        bool // every path crosses a peer edge
}

// Apply copies f onto p's flag fields.
func (f Flags) Apply(p *Package) {
	p.Dev, p.Optional, p.DevOptional, p.Peer = f.Dev, f.Optional, f.DevOptional, f.Peer
}

// What a package can be reached by, from the importers. Each bit only ever
// gets set, so the walk visits a package at most once per bit.
const (
	reached     uint8 = 1 << iota
	avoidDev          // by a path without a dev edge
	avoidOpt          // by a path without an optional edge
	avoidDevOpt       // by a path with neither a dev nor an optional edge
	avoidPeer         // by a path without a peer edge
	allReach    = reached | avoidDev | avoidOpt | avoidDevOpt | avoidPeer
)

// pass returns the reach bits a path keeps when it goes on along an edge
// of kind k.
func (k DepKind) pass() uint8 {
	bits := reached
	if k&KindDev == 0 {
		bits |= avoidDev
	}
	if k&KindOptional == 0 {
		bits |= avoidOpt
	}
	if k&(KindDev|KindOptional) == 0 {
		bits |= avoidDevOpt
	}
	if k&KindPeer == 0 {
		bits |= avoidPeer
	}
	return bits
}

// DepFlags works out every package's Flags the way npm's arborist does in
// calc-dep-flags: importers carry no flag, and a flag of a package is
// cleared as soon as some path from an importer reaches it without an edge
// of that flag's kind. So a package needed by both prod and dev paths is
// not Dev; an optional dependency of a devDependency is Dev and Optional;
// a package that dev paths and optional prod paths need, but no path free
// of both, is DevOptional only (npm writes devOptional only when neither
// dev nor optional is set). Cycles are walked like any other edge.
//
// roots are the importers' dependencies with their kinds; a reader may
// list a package more than once (a name in both dependencies and
// devDependencies) and may leave out importer edges that install nothing.
// kind gives the kind of g.Packages[from].Dependencies[k]; nil means every
// package edge is prod. Edges to indices outside g.Packages are ignored.
//
// Packages no root reaches (npm's extraneous packages: stale lockfile
// entries, an SBOM without relationships) get no flag at all, as npm writes
// none of dev, optional or peer for them.
func DepFlags(g *Graph, roots []Edge, kind func(from, k int) DepKind) []Flags {
	n := len(g.Packages)
	state := make([]uint8, n)
	var stack []int
	mark := func(to int, bits uint8) {
		if to < 0 || to >= n {
			return
		}
		if state[to]|bits != state[to] {
			state[to] |= bits
			stack = append(stack, to)
		}
	}
	for _, r := range roots {
		mark(r.To, allReach&r.Kind.pass())
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		s := state[i]
		for k, d := range g.Packages[i].Dependencies {
			pass := KindProd.pass()
			if kind != nil {
				pass = kind(i, k).pass()
			}
			mark(d, s&pass)
		}
	}
	out := make([]Flags, n)
	for i, s := range state {
		if s&reached == 0 {
			continue
		}
		f := Flags{
			Dev:      s&avoidDev == 0,
			Optional: s&avoidOpt == 0,
			Peer:     s&avoidPeer == 0,
		}
		f.DevOptional = s&avoidDevOpt == 0 && !f.Dev && !f.Optional
		out[i] = f
	}
	return out
}

// ComputeFlags sets Dev, Optional, DevOptional and Peer on every package of
// g from DepFlags, for lockfiles that record none of them. Readers that
// record some flags themselves call DepFlags and keep what was recorded.
func ComputeFlags(g *Graph, roots []Edge, kind func(from, k int) DepKind) {
	for i, f := range DepFlags(g, roots, kind) {
		f.Apply(&g.Packages[i])
	}
}
