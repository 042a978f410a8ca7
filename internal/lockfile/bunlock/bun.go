// Package bunlock reads bun.lock, the text lockfile of bun 1.1.39 and later
// (lockfileVersion 0, 1 and 2). The binary bun.lockb is not read here.
package bunlock

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Reader reads bun.lock.
type Reader struct{}

var _ lockfile.Reader = Reader{}

func (Reader) Name() string { return "bun" }

func (Reader) Matches(base string) bool { return base == "bun.lock" }

// dependency groups and the kind of edge each makes
var groups = []struct {
	key  string
	kind lockfile.DepKind
}{
	{"dependencies", lockfile.KindProd},
	{"devDependencies", lockfile.KindDev},
	{"optionalDependencies", lockfile.KindOptional},
	{"peerDependencies", lockfile.KindPeer},
}

// edge is a dependency with its kind; a package's edges parallel its
// Dependencies.
type edge struct {
	to   int
	kind lockfile.DepKind
}

type builder struct {
	ctx   context.Context
	file  string
	t     *tree
	data  []byte
	lines *lockfile.LineIndex // built for error messages only
	pos   lineCursor
	g     *lockfile.Graph

	keys       map[string]int // packages key -> package index
	info       []int32        // per package: its INFO object, or -1
	edges      [][]edge       // per package
	impEdges   [][]edge       // per importer
	wsPkg      map[string]int // workspace path -> its package
	steps      int
	buf        []byte
	parentsBuf []string
	depArena   []int
	edgeArena  []edge

	// Most packages sit at the top of node_modules and have no copies of
	// their own below them: lookups skip the nested keys they cannot have.
	top         []bool          // per package: its key has one component
	hasNested   []bool          // per package: nested keys sit under its key
	nestedUnder map[string]bool // key prefixes that nested keys sit under
}

// lineCursor turns increasing byte offsets into line and column: package
// keys come in file order, so counting the lines between two of them is
// all it takes (a LineIndex of the whole file costs more than that).
type lineCursor struct {
	src       []byte
	off, line int // line (1-based) of offset off
	lineStart int
}

func (c *lineCursor) position(off int) (line, col int) {
	if c.line == 0 || off < c.off {
		c.off, c.line, c.lineStart = 0, 1, 0
	}
	gap := c.src[c.off:off]
	if n := bytes.Count(gap, []byte{'\n'}); n > 0 {
		c.line += n
		c.lineStart = c.off + bytes.LastIndexByte(gap, '\n') + 1
	}
	c.off = off
	return c.line, off - c.lineStart + 1
}

func (b *builder) perr(off int32, format string, args ...any) *lockfile.ParseError {
	if b.lines == nil {
		b.lines = lockfile.NewLineIndex(b.data)
	}
	line, col := b.lines.Position(int(off))
	return &lockfile.ParseError{File: b.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (b *builder) tick() error {
	b.steps++
	if b.steps&1023 == 0 {
		return b.ctx.Err()
	}
	return nil
}

// Parse reads bun.lock. See jsonc.go for why the JSON is read by hand.
func (Reader) Parse(ctx context.Context, file string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %w", file, lockfile.ErrTooLarge)
	}
	b := &builder{ctx: ctx, file: file, data: data, g: &lockfile.Graph{File: file, Format: lockfile.FormatBunLock}}
	b.pos.src = data
	t, err := parseJSONC(string(data))
	if err != nil {
		je := err.(*jsonError)
		pe := b.perr(int32(je.off), "invalid JSON: %s", je.msg)
		pe.Err = err
		return nil, pe
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.t = t
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.g, nil
}

func (b *builder) object(n int32, what string) (int32, error) {
	if n < 0 || b.t.nodes[n].kind == kNull {
		return -1, nil
	}
	if b.t.nodes[n].kind != kObject {
		return -1, b.perr(b.t.nodes[n].off, "%s: expected an object, found a %s", what, b.t.nodes[n].kind)
	}
	return n, nil
}

func (b *builder) build() error {
	t := b.t
	root := t.root
	if t.nodes[root].kind != kObject {
		return b.perr(t.nodes[root].off, "expected an object with lockfileVersion, found a %s", t.nodes[root].kind)
	}
	if v := t.get(root, "lockfileVersion"); v < 0 || t.nodes[v].kind != kNumber {
		off := t.nodes[root].off
		if v >= 0 {
			off = t.nodes[v].off
		}
		return b.perr(off, "expected lockfileVersion, a number")
	}
	pkgs, err := b.object(t.get(root, "packages"), "packages")
	if err != nil {
		return err
	}
	wss, err := b.object(t.get(root, "workspaces"), "workspaces")
	if err != nil {
		return err
	}
	n := 0
	if pkgs >= 0 {
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			n++
		}
	}
	b.keys = make(map[string]int, n)
	b.top = make([]bool, 0, n)
	b.nestedUnder = make(map[string]bool)
	b.wsPkg = make(map[string]int)
	b.g.Packages = make([]lockfile.Package, 0, n)
	b.info = make([]int32, 0, n)
	b.edges = make([][]edge, 0, n)
	if pkgs >= 0 {
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			if err := b.tick(); err != nil {
				return err
			}
			if err := b.addPackage(e); err != nil {
				return err
			}
		}
	}
	if err := b.addImporters(wss); err != nil {
		return err
	}
	b.hasNested = make([]bool, len(b.g.Packages))
	total := 0
	for i := range b.g.Packages {
		b.hasNested[i] = b.nestedUnder[b.g.Packages[i].Key]
		for _, g := range groups {
			if d := t.get(b.info[i], g.key); d >= 0 {
				for c := t.nodes[d].first; c >= 0; c = t.nodes[c].next {
					total++
				}
			}
		}
	}
	// every package's edges are slices of two shared arrays, allocated once
	b.depArena = make([]int, 0, total)
	b.edgeArena = make([]edge, 0, total)
	for i := range b.g.Packages {
		if err := b.tick(); err != nil {
			return err
		}
		if err := b.addEdges(i); err != nil {
			return err
		}
	}
	b.finish()
	return nil
}

// addPackage reads one packages entry. Its shape depends on the
// resolution in its first element (see bun's src/install/bun.lock.zig):
//
//	npm        ["name@1.2.3", "registry or empty", INFO, "sha512-…"]
//	workspace  ["name@workspace:path"] (v1+) or ["name@workspace:path", INFO] (v0)
//	link       ["name@link:path", INFO]
//	folder     ["name@file:path", INFO]
//	tarball    ["name@https://…" or "name@./local.tgz", INFO, "sha512-…"?]
//	git        ["name@git+https://…#commit", INFO, "bun tag"]
//	github     ["name@github:owner/repo#commit", INFO, "bun tag"]
//	root       ["name@root:", {bin…}]
func (b *builder) addPackage(e int32) error {
	t := b.t
	key := t.key(e)
	if t.nodes[e].kind != kArray {
		return b.perr(t.nodes[e].off, "package %q: expected an array, found a %s", key, t.nodes[e].kind)
	}
	var elems [4]int32
	n := 0
	for c := t.nodes[e].first; c >= 0 && n < len(elems); c = t.nodes[c].next {
		elems[n] = c
		n++
	}
	if n == 0 || t.nodes[elems[0]].kind != kString {
		return b.perr(t.nodes[e].off, "package %q: expected [\"NAME@VERSION\", …]", key)
	}
	id := t.str(elems[0])
	name, res := splitID(id)
	if name == "" {
		return b.perr(t.nodes[elems[0]].off, "package %q: expected NAME@VERSION, found %q", key, id)
	}
	elem := func(i int, k kind) int32 {
		if i < n && t.nodes[elems[i]].kind == k {
			return elems[i]
		}
		return -1
	}
	p := lockfile.Package{Key: key}
	p.Name, p.Version = name, res
	off := t.nodes[e].keyOff
	line, col := b.pos.position(int(off))
	p.Location = lockfile.Location{File: b.file, Line: line, Column: col}
	info := elem(1, kObject)
	switch {
	case strings.HasPrefix(res, "workspace:"), strings.HasPrefix(res, "root:"):
		p.Source = lockfile.SourceWorkspace
		if path, ok := strings.CutPrefix(res, "workspace:"); ok {
			b.wsPkg[path] = len(b.g.Packages)
		}
	case strings.HasPrefix(res, "link:"):
		p.Source = lockfile.SourceLink
	case strings.HasPrefix(res, "file:"):
		p.Source, p.Resolved = lockfile.SourceFile, res
	case strings.HasPrefix(res, "git+"), strings.HasPrefix(res, "git:"), strings.HasPrefix(res, "github:"):
		p.Source, p.Resolved = lockfile.SourceGit, res
	case strings.HasPrefix(res, "http://"), strings.HasPrefix(res, "https://"):
		p.Source, p.Resolved = lockfile.SourceTarball, res
		p.Integrity = t.str(elem(2, kString))
	case isLocalTarball(res):
		p.Source, p.Resolved = lockfile.SourceFile, res
		p.Integrity = t.str(elem(2, kString))
	default:
		p.Source = lockfile.SourceRegistry
		p.Resolved = t.str(elem(1, kString)) // "" for the default registry
		info = elem(2, kObject)
		p.Integrity = t.str(elem(3, kString))
	}
	if last := lastComponent(key); last != name {
		p.Alias = last
	}
	if _, dup := b.keys[key]; dup {
		return b.perr(off, "package %q is listed twice", key)
	}
	var buf [8]int
	ends := components(key, buf[:0])
	if len(ends) > 1 {
		// remember that the parent has copies of its own under it
		b.nestedUnder[key[:ends[len(ends)-2]]] = true
	}
	b.top = append(b.top, len(ends) == 1)
	b.keys[key] = len(b.g.Packages)
	b.g.Packages = append(b.g.Packages, p)
	b.info = append(b.info, info)
	b.edges = append(b.edges, nil)
	return nil
}

// splitID splits "name@resolution" after the name (which may be scoped).
func splitID(id string) (name, res string) {
	if len(id) < 2 {
		return "", ""
	}
	i := strings.IndexByte(id[1:], '@')
	if i < 0 {
		return "", ""
	}
	return id[:i+1], id[i+2:]
}

func isLocalTarball(res string) bool {
	return strings.HasSuffix(res, ".tgz") || strings.HasSuffix(res, ".tar.gz") || strings.HasSuffix(res, ".tar")
}

// components splits a packages key into the package names along its
// node_modules path: "@fx/web/react/loose-envify" -> @fx/web, react,
// loose-envify. It returns the end offset of each component.
func components(key string, ends []int) []int {
	ends = ends[:0]
	i := 0
	for i < len(key) {
		j := strings.IndexByte(key[i:], '/')
		if j < 0 {
			return append(ends, len(key))
		}
		j += i
		if key[i] == '@' { // a scope: the name goes on to the next slash
			k := strings.IndexByte(key[j+1:], '/')
			if k < 0 {
				return append(ends, len(key))
			}
			j += 1 + k
		}
		ends = append(ends, j)
		i = j + 1
	}
	return ends
}

func lastComponent(key string) string {
	var buf [8]int
	ends := components(key, buf[:0])
	if len(ends) < 2 {
		return key
	}
	return key[ends[len(ends)-2]+1:]
}

// parents returns the prefixes of key under which its dependencies may
// have nested copies, nearest first: the key itself, then its ancestors
// (only those that have nested keys at all).
func (b *builder) parents(self int, key string, out []string) []string {
	out = out[:0]
	if self >= 0 && b.top[self] {
		if b.hasNested[self] {
			out = append(out, key)
		}
		return out
	}
	var buf [8]int
	ends := components(key, buf[:0])
	for k := len(ends); k > 0; k-- {
		if parent := key[:ends[k-1]]; b.nestedUnder[parent] {
			out = append(out, parent)
		}
	}
	return out
}

// lookup resolves dependency dep the way bun's node_modules layout does:
// the nearest "parent/dep" of parents, then the top-level "dep".
func (b *builder) lookup(parents []string, dep string) int {
	for _, parent := range parents {
		b.buf = append(append(append(b.buf[:0], parent...), '/'), dep...)
		if i, ok := b.keys[string(b.buf)]; ok {
			return i
		}
	}
	return b.find(dep)
}

func (b *builder) find(key string) int {
	if i, ok := b.keys[key]; ok {
		return i
	}
	return -1
}

// addImporters reads the workspaces: "" is the root project.
func (b *builder) addImporters(wss int32) error {
	t := b.t
	if wss < 0 {
		return nil
	}
	for w := t.nodes[wss].first; w >= 0; w = t.nodes[w].next {
		path := t.key(w)
		if _, err := b.object(w, "workspace "+path); err != nil {
			return err
		}
		imp := lockfile.Importer{Name: t.str(t.get(w, "name")), Path: path}
		if path == "" {
			imp.Path = "."
		}
		// a workspace's own copies sit under its name: "@fx/web/react"
		prefix := ""
		if path != "" {
			prefix = imp.Name
		}
		var edges []edge
		parents := b.parents(-1, prefix, nil)
		for _, g := range groups {
			deps, err := b.object(t.get(w, g.key), g.key)
			if err != nil {
				return err
			}
			if deps < 0 {
				continue
			}
			for d := t.nodes[deps].first; d >= 0; d = t.nodes[d].next {
				to := b.lookup(parents, t.key(d))
				if to < 0 {
					continue // an optional dependency for another platform, an unresolved peer
				}
				edges = append(edges, edge{to: to, kind: g.kind})
				imp.Dependencies = append(imp.Dependencies, to)
				b.g.Packages[to].Direct = true
			}
		}
		b.g.Importers = append(b.g.Importers, imp)
		b.impEdges = append(b.impEdges, edges)
		// the workspace package depends on what its workspace does (v1+
		// write no INFO for workspace entries)
		if pi, ok := b.wsPkg[path]; ok && b.info[pi] < 0 {
			for _, e := range edges {
				if e.kind != lockfile.KindDev && e.to != pi {
					b.edges[pi] = append(b.edges[pi], e)
					b.g.Packages[pi].Dependencies = append(b.g.Packages[pi].Dependencies, e.to)
				}
			}
		}
	}
	return nil
}

// addEdges resolves the dependencies listed in package i's INFO object.
func (b *builder) addEdges(i int) error {
	t := b.t
	info := b.info[i]
	if info < 0 {
		return nil
	}
	p := &b.g.Packages[i]
	parents := b.parents(i, p.Key, b.parentsBuf)
	b.parentsBuf = parents
	start := len(b.depArena)
	var optionalPeers map[string]bool
	if op := t.get(info, "optionalPeers"); op >= 0 && t.nodes[op].kind == kArray {
		optionalPeers = make(map[string]bool)
		for c := t.nodes[op].first; c >= 0; c = t.nodes[c].next {
			optionalPeers[t.str(c)] = true
		}
	}
	for _, g := range groups {
		if g.kind == lockfile.KindDev {
			// a package's own devDependencies are not installed; a v0
			// workspace entry's are its importer's (see addImporters)
			continue
		}
		deps := t.get(info, g.key)
		if deps < 0 || t.nodes[deps].kind == kNull {
			continue
		}
		if t.nodes[deps].kind != kObject {
			return b.perr(t.nodes[deps].off, "package %q: %s: expected an object, found a %s", p.Key, g.key, t.nodes[deps].kind)
		}
		for d := t.nodes[deps].first; d >= 0; d = t.nodes[d].next {
			name := t.key(d)
			to := b.lookup(parents, name)
			if to < 0 || to == i {
				continue
			}
			kind := g.kind
			if kind == lockfile.KindPeer && optionalPeers[name] {
				kind = lockfile.KindPeerOptional
			}
			b.edgeArena = append(b.edgeArena, edge{to: to, kind: kind})
			b.depArena = append(b.depArena, to)
		}
	}
	edges, deps := b.edgeArena[start:len(b.edgeArena):len(b.edgeArena)], b.depArena[start:len(b.depArena):len(b.depArena)]
	if len(b.edges[i]) > 0 { // a v0 workspace entry: its importer's edges came first
		edges, deps = append(b.edges[i], edges...), append(p.Dependencies, deps...)
	}
	b.edges[i], p.Dependencies = edges, deps
	return nil
}

// finish works out Dev, Optional, DevOptional and Peer, none of which
// bun.lock records, from the importers' edges and the packages' typed
// edges (see lockfile.DepFlags).
func (b *builder) finish() {
	var roots []lockfile.Edge
	for _, edges := range b.impEdges {
		for _, e := range edges {
			roots = append(roots, lockfile.Edge{To: e.to, Kind: e.kind})
		}
	}
	lockfile.ComputeFlags(b.g, roots, func(from, k int) lockfile.DepKind { return b.edges[from][k].kind })
}
