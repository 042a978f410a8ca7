package yarnlock

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// entry is one lockfile entry as read, before it becomes a Package.
type entry struct {
	key                string // the descriptors, unquoted, joined by ", "
	descStart, descEnd int32  // into builder.descs
	depStart, depEnd   int32  // into builder.deps
	line, col          int
	version            string
	resolved           string // v1 resolved URL; Berry resolution locator
	integrity          string // v1 only
}

type desc struct{ name, rng string }

// dep is one line of an entry's dependencies (or, for Berry workspaces,
// peerDependencies) block.
type dep struct {
	name, rng string
	optional  bool // v1 optionalDependencies; Berry dependenciesMeta optional
	peer      bool
}

// builder collects entries from either dialect and turns them into a Graph.
type builder struct {
	file    string
	berry   bool
	entries []entry
	descs   []desc
	deps    []dep
}

func newBuilder(file string, berry bool, size int) *builder {
	// A yarn.lock entry takes 300 to 400 bytes and has about four
	// dependency lines; sizing from the file avoids regrowing.
	n := size/350 + 8
	return &builder{
		file:    file,
		berry:   berry,
		entries: make([]entry, 0, n),
		descs:   make([]desc, 0, n*3/2),
		deps:    make([]dep, 0, n*4),
	}
}

func (b *builder) entryDescs(e *entry) []desc { return b.descs[e.descStart:e.descEnd] }

// build resolves edges and importers and computes the flags the lockfile
// alone can tell.
func (b *builder) build(ctx context.Context, format lockfile.Format) (*lockfile.Graph, error) {
	g := &lockfile.Graph{File: b.file, Format: format}
	var skip []bool
	if b.berry {
		skip = b.patchBases()
	}
	g.Packages = make([]lockfile.Package, 0, len(b.entries))
	pkgEntry := make([]int32, 0, len(b.entries))
	for i := range b.entries {
		if skip != nil && skip[i] {
			continue
		}
		e := &b.entries[i]
		var p lockfile.Package
		var err error
		if b.berry {
			p, err = b.berryPackage(e)
		} else {
			p, err = b.v1Package(e)
		}
		if err != nil {
			return nil, err
		}
		g.Packages = append(g.Packages, p)
		pkgEntry = append(pkgEntry, int32(i))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", b.file, err)
	}

	idx := newIndex(g.Packages, b.berry)
	if idx.dup.name != "" {
		// Yarn never writes one descriptor in two entries; a file that does
		// is hand-edited or corrupt, and which version is installed is
		// anybody's guess.
		second := &g.Packages[idx.dupPkgs[1]].Location
		return nil, parseErr(b.file, second.Line, second.Column, "descriptor %.100s is also listed by the entry at line %d",
			idx.dup.name+"@"+idx.dup.rng, g.Packages[idx.dupPkgs[0]].Location.Line)
	}
	// Edges live in two flat slices, one allocation each; every package's
	// Dependencies is a window of the first.
	edges := make([]int, 0, len(b.deps))
	optional := make([]bool, 0, len(b.deps))
	edgeStart := make([]int32, len(g.Packages)+1)
	// at[t] is 1 + the position in edges of package t among the current
	// package's edges, valid when stamp[t] says it was set for this
	// package: duplicates are found in constant time, whatever the number
	// of dependencies a (hostile) entry lists.
	at := make([]int32, len(g.Packages))
	stamp := make([]int32, len(g.Packages))
	for pi := range g.Packages {
		e := &b.entries[pkgEntry[pi]]
		start := len(edges)
		edgeStart[pi] = int32(start)
		for _, d := range b.deps[e.depStart:e.depEnd] {
			if d.peer {
				// A peer is whatever the dependent's parent provides; the
				// lockfile does not say which instance.
				continue
			}
			t := idx.resolve(d.name, d.rng, g.Packages[pi].Resolved, true)
			if t < 0 || int(t) == pi {
				continue
			}
			if stamp[t] == int32(pi)+1 {
				k := at[t] - 1
				optional[k] = optional[k] && d.optional
				continue
			}
			stamp[t], at[t] = int32(pi)+1, int32(len(edges))+1
			edges = append(edges, int(t))
			optional = append(optional, d.optional)
		}
		g.Packages[pi].Dependencies = edges[start:len(edges):len(edges)]
	}
	edgeStart[len(g.Packages)] = int32(len(edges))

	optionalEdge := func(from, k int) bool { return optional[int(edgeStart[from])+k] }
	var roots []rootEdge
	if b.berry {
		roots = b.berryImporters(g, idx, pkgEntry, optional, edgeStart)
	} else {
		// Yarn v1 does not list the project's own packages. Until
		// AttachManifests says otherwise, the packages no other package
		// leads to are taken for required direct dependencies: those
		// nothing depends on, and the cycles nothing outside them leads to.
		for _, i := range sourceComponents(g.Packages) {
			roots = append(roots, rootEdge{pkg: i})
		}
	}
	setFlags(g, roots, optionalEdge)
	return g, nil
}

// sourceComponents returns the packages of the strongly connected
// components of the dependency graph that no edge enters from outside,
// found with Tarjan's algorithm (iterative, as lockfiles have long chains).
func sourceComponents(pkgs []lockfile.Package) []int32 {
	n := len(pkgs)
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	comp := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
	}
	var stack []int32
	type frame struct{ v, k int32 }
	var call []frame
	next, ncomp := int32(0), int32(0)
	for s := range n {
		if index[s] != unvisited {
			continue
		}
		call = append(call, frame{int32(s), 0})
		index[s], low[s] = next, next
		next++
		stack = append(stack, int32(s))
		onStack[s] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			deps := pkgs[f.v].Dependencies
			if int(f.k) < len(deps) {
				w := int32(deps[f.k])
				f.k++
				switch {
				case index[w] == unvisited:
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				case onStack[w]:
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	entered := make([]bool, ncomp)
	for v := range pkgs {
		for _, w := range pkgs[v].Dependencies {
			if comp[w] != comp[v] {
				entered[comp[w]] = true
			}
		}
	}
	var out []int32
	for v := range pkgs {
		if !entered[comp[v]] {
			out = append(out, int32(v))
		}
	}
	return out
}

// berryImporters makes an Importer of every workspace: entry, root first,
// and returns their dependencies as roots for the flag walk.
func (b *builder) berryImporters(g *lockfile.Graph, idx *index, pkgEntry []int32, optional []bool, edgeStart []int32) []rootEdge {
	var roots []rootEdge
	for pi := range g.Packages {
		p := &g.Packages[pi]
		if p.Source != lockfile.SourceWorkspace {
			continue
		}
		_, rng := splitDescriptor(p.Resolved)
		imp := lockfile.Importer{Name: p.Name, Path: strings.TrimPrefix(rng, "workspace:")}
		imp.Dependencies = append(imp.Dependencies, p.Dependencies...)
		listed := make(map[int]bool, len(p.Dependencies))
		for k, t := range p.Dependencies {
			listed[t] = true
			roots = append(roots, rootEdge{pkg: int32(t), optional: optional[int(edgeStart[pi])+k]})
		}
		// A workspace's peers are installed by its own devDependencies or
		// by its dependents; when the lockfile has an entry for the
		// range, the workspace uses it.
		e := &b.entries[pkgEntry[pi]]
		for _, d := range b.deps[e.depStart:e.depEnd] {
			if !d.peer {
				continue
			}
			if t := idx.resolve(d.name, d.rng, p.Resolved, false); t >= 0 && !listed[int(t)] {
				listed[int(t)] = true
				imp.Dependencies = append(imp.Dependencies, int(t))
				roots = append(roots, rootEdge{pkg: t})
			}
		}
		for _, t := range imp.Dependencies {
			g.Packages[t].Direct = true
		}
		g.Importers = append(g.Importers, imp)
	}
	sortImporters(g.Importers)
	return roots
}

func sortImporters(imps []lockfile.Importer) {
	slices.SortStableFunc(imps, func(a, b lockfile.Importer) int {
		ra, rb := isRootPath(a.Path), isRootPath(b.Path)
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return cmp.Compare(a.Path, b.Path)
	})
}

func isRootPath(p string) bool { return p == "" || p == "." }

// patchBases marks the Berry entries that exist only as the source of a
// patch: entry. Yarn keeps the unpatched package in the lockfile because the
// patch is computed from it, but installs only the patched one; reporting
// both would count one installed package twice. An entry is such a base
// when every one of its descriptors is the inner descriptor of a patch:
// descriptor (typescript@npm:^5 inside
// typescript@patch:typescript@npm%3A^5#optional!builtin<compat/typescript>).
// A base that other packages also ask for directly is kept.
func (b *builder) patchBases() []bool {
	wrapped := make(map[desc]bool)
	for i := range b.entries {
		for _, d := range b.entryDescs(&b.entries[i]) {
			if inner, _, ok := patchInner(d.rng); ok {
				wrapped[inner] = true
				wrapped[stripNpm(inner)] = true
			}
		}
	}
	if len(wrapped) == 0 {
		return nil
	}
	names := make(map[string]bool, len(wrapped))
	for d := range wrapped {
		names[d.name] = true
	}
	skip := make([]bool, len(b.entries))
	for i := range b.entries {
		e := &b.entries[i]
		all := e.descEnd > e.descStart && names[b.descs[e.descStart].name]
		for _, d := range b.entryDescs(e) {
			if strings.HasPrefix(d.rng, "patch:") || !wrapped[stripNpm(d)] {
				all = false
				break
			}
		}
		skip[i] = all
	}
	return skip
}

// patchInner decodes the descriptor a patch: range applies to:
// "patch:typescript@npm%3A^5.0.0#optional!builtin<compat/typescript>" →
// typescript@npm:^5.0.0, builtin. Yarn applies builtin (compat) patches by
// itself to every matching dependency.
func patchInner(rng string) (inner desc, builtin, ok bool) {
	body, found := strings.CutPrefix(rng, "patch:")
	if !found {
		return desc{}, false, false
	}
	enc, patch, _ := strings.Cut(body, "#")
	if strings.IndexByte(enc, '%') >= 0 {
		if dec, err := url.PathUnescape(enc); err == nil {
			enc = dec
		}
	}
	name, r := splitDescriptor(enc)
	if name == "" {
		return desc{}, false, false
	}
	return desc{name, r}, strings.Contains(patch, "builtin<"), true
}

// stripNpm drops the npm: protocol Berry puts before registry ranges; yarn
// 2 (lockfile version 4) wrote keys and dependencies without it.
func stripNpm(d desc) desc {
	if r, ok := strings.CutPrefix(d.rng, "npm:"); ok && aliasTarget(d.rng) == "" {
		return desc{d.name, r}
	}
	return d
}

// index finds the package a dependency name@range resolved to. It is built
// from the packages' Keys alone, so AttachManifests can rebuild it from a
// Graph.
type index struct {
	pkgs  []lockfile.Package
	berry bool
	exact map[desc]int32 // every descriptor of every key
	// Berry only. forced holds the inner descriptors of yarn's builtin
	// compat patches, which yarn applies in place of the dependency they
	// wrap, so they win over exact. loose holds registry descriptors
	// without their npm: (how lockfile version 4 wrote dependency ranges)
	// and the inner descriptors of other patches, used when no entry has
	// the descriptor itself (the unpatched entry was folded into the
	// patch, see patchBases).
	forced, loose map[desc]int32
	// Berry binds relative ranges to the dependent:
	// "lib@file:./lib::locator=app%40workspace%3A.", while the dependent's
	// dependency line has only "file:./lib". bound finds them by name,
	// range without parameters and dependent; boundOnly by the first two
	// when just one package has them (else -1).
	bound     map[boundKey]int32
	boundOnly map[desc]int32
	byName    map[string][]int32 // built on first need
	// dup is the first descriptor two packages list, dupPkgs the two.
	dup     desc
	dupPkgs [2]int32
}

type boundKey struct{ name, rng, locator string }

func newIndex(pkgs []lockfile.Package, berry bool) *index {
	n := 0
	for i := range pkgs {
		n += strings.Count(pkgs[i].Key, ",") + 1
	}
	x := &index{pkgs: pkgs, berry: berry, exact: make(map[desc]int32, n)}
	for i := range pkgs {
		pi := int32(i)
		for key := pkgs[i].Key; key != ""; {
			var part string
			part, key, _ = strings.Cut(key, ",")
			name, rng := splitDescriptor(strings.TrimSpace(part))
			d := desc{name, rng}
			if prev, ok := x.exact[d]; ok && prev != pi && x.dup.name == "" {
				x.dup, x.dupPkgs = d, [2]int32{prev, pi}
			}
			x.exact[d] = pi
			if !berry {
				continue
			}
			if inner, builtin, ok := patchInner(rng); ok && builtin {
				if x.forced == nil {
					x.forced = make(map[desc]int32)
				}
				x.forced[inner], x.forced[stripNpm(inner)] = pi, pi
			}
			if base, params, ok := strings.Cut(rng, "::"); ok {
				if x.bound == nil {
					x.bound, x.boundOnly = make(map[boundKey]int32), make(map[desc]int32)
				}
				if q, err := url.ParseQuery(params); err == nil {
					x.bound[boundKey{name, base, q.Get("locator")}] = pi
				}
				k := desc{name, base}
				if prev, seen := x.boundOnly[k]; seen && prev != pi {
					x.boundOnly[k] = -1
				} else {
					x.boundOnly[k] = pi
				}
			}
		}
	}
	return x
}

// buildLoose fills index.loose. Lockfiles from yarn 3 on write every
// registry range with npm: and never need it, so it is built on the first
// lookup exact cannot answer.
func (x *index) buildLoose() {
	x.loose = make(map[desc]int32)
	setDefault := func(k desc, pi int32) {
		if _, taken := x.loose[k]; !taken {
			x.loose[k] = pi
		}
	}
	for i := range x.pkgs {
		for key := x.pkgs[i].Key; key != ""; {
			var part string
			part, key, _ = strings.Cut(key, ",")
			name, rng := splitDescriptor(strings.TrimSpace(part))
			d := desc{name, rng}
			if s := stripNpm(d); s != d {
				setDefault(s, int32(i))
			}
			if inner, builtin, ok := patchInner(rng); ok && !builtin {
				setDefault(inner, int32(i))
				setDefault(stripNpm(inner), int32(i))
			}
		}
	}
}

func (x *index) lookup(k desc) (int32, bool) {
	if x.forced != nil {
		if i, ok := x.forced[k]; ok {
			return i, true
		}
	}
	if i, ok := x.exact[k]; ok {
		return i, true
	}
	if !x.berry {
		return -1, false
	}
	if x.loose == nil {
		x.buildLoose()
	}
	i, ok := x.loose[k]
	return i, ok
}

// resolve returns the package the dependency name: rng of the package whose
// locator is from resolved to, or -1. byName allows the last resort of
// taking the only package of that name (see below).
func (x *index) resolve(name, rng, from string, byName bool) int32 {
	if i, ok := x.lookup(desc{name, rng}); ok {
		return i
	}
	if r, ok := strings.CutPrefix(rng, "npm:"); ok {
		if i, ok := x.lookup(desc{name, r}); ok {
			return i
		}
	}
	if !x.berry {
		return -1
	}
	if i, ok := x.bound[boundKey{name, rng, from}]; ok {
		return i
	}
	if i, ok := x.boundOnly[desc{name, rng}]; ok {
		return i // -1 when several dependents have their own
	}
	if !byName {
		return -1
	}
	// package.json "resolutions" rewrite a dependency before it is looked
	// up, and the lockfile keeps the dependency as written
	// (kind-of: npm:^3.0.2 while the only kind-of entry is a patch of
	// 3.2.2). Without the manifest, a name with one entry is that entry.
	if x.byName == nil {
		x.byName = make(map[string][]int32)
		for pi := range x.pkgs {
			for part := range strings.SplitSeq(x.pkgs[pi].Key, ",") {
				n, _ := splitDescriptor(strings.TrimSpace(part))
				if c := x.byName[n]; len(c) == 0 || c[len(c)-1] != int32(pi) {
					x.byName[n] = append(c, int32(pi))
				}
			}
		}
	}
	if c := x.byName[name]; len(c) == 1 {
		return c[0]
	}
	return -1
}

// rootEdge is a dependency of an importer.
type rootEdge struct {
	pkg           int32
	dev, optional bool
}

// setFlags sets Dev, Optional and DevOptional with npm's meaning (see
// lockfile.DepFlags) from the importers' edges; optionalEdge tells whether
// edge k of package from is optional. Yarn installs nothing for a peer, so
// no edge is a peer edge and Peer stays false. Packages nothing reaches
// (stale entries) keep no flag.
func setFlags(g *lockfile.Graph, roots []rootEdge, optionalEdge func(from, k int) bool) {
	edges := make([]lockfile.Edge, len(roots))
	for k, r := range roots {
		e := lockfile.Edge{To: int(r.pkg)}
		if r.dev {
			e.Kind |= lockfile.KindDev
		}
		if r.optional {
			e.Kind |= lockfile.KindOptional
		}
		edges[k] = e
	}
	lockfile.ComputeFlags(g, edges, func(from, k int) lockfile.DepKind {
		if optionalEdge(from, k) {
			return lockfile.KindOptional
		}
		return lockfile.KindProd
	})
}
