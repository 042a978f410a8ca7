// Package nodemodules reads what is installed in a node_modules tree into a
// lockfile.Graph: the nested layout of npm and yarn v1, and pnpm's virtual
// store (node_modules/.pnpm/<name>@<version>/node_modules/<name>, which
// bun's isolated installs copy as node_modules/.bun).
//
// The tree is the truth of what runs, whatever a lockfile says. Each
// installed package folder (after symlinks) is one Package, keyed by its
// path relative to the project; its edges are found as Node.js finds them,
// from the folder's real path up. A link to a folder outside node_modules (a
// workspace, a file: or npm link folder) is a SourceLink package pointing
// at that folder.
//
// Nothing is executed and nothing but directories and package.json files is
// read. Symlinks are followed with loops detected; the walk never leaves the
// project, and is bounded in depth, directory entries and packages.
package nodemodules

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/npmlock"
)

// Limits on what one Read will look at. Real trees hold a few thousand
// packages and nest a dozen levels; these only stop hostile or broken ones.
const (
	maxManifestSize = 1 << 20 // bytes of one package.json
	maxPackages     = 200_000
	maxEntries      = 2_000_000 // directory entries listed, in total
	maxDepth        = 128       // node_modules nested in node_modules
	ctxEvery        = 64        // packages between context checks
)

// ErrNoNodeModules is returned when dir has no node_modules folder.
var ErrNoNodeModules = errors.New("no node_modules folder")

// Read reads the node_modules tree of the project in dir (dir may also be
// the node_modules folder itself).
//
// npm keeps its own record of the tree in node_modules/.package-lock.json.
// Read uses it instead of opening every package.json only when npm itself
// would trust it: no folder of the tree is newer than it, every folder is
// in it and everything in it is on disk. Otherwise it reads the tree.
func Read(ctx context.Context, dir string) (*lockfile.Graph, error) {
	g, _, err := read(ctx, dir, true)
	return g, err
}

// read is Read, telling whether the hidden lockfile was used; useHidden
// false always reads the tree (tests compare the two).
func read(ctx context.Context, dir string, useHidden bool) (g *lockfile.Graph, usedHidden bool, err error) {
	r, err := newReader(ctx, dir)
	if err != nil {
		return nil, false, err
	}
	if useHidden {
		if g, err = r.fromHiddenLockfile(); err != nil || g != nil {
			return g, g != nil, err
		}
	}
	g, err = r.walk()
	return g, false, err
}

// dep is a dependency a manifest declares, with its kind.
type dep struct {
	name string
	kind lockfile.DepKind
}

// nmDir is a node_modules folder waiting to be listed.
type nmDir struct {
	loc   string // its key: the real key of its package + "/node_modules"
	real  string // its real path
	depth int
}

type reader struct {
	ctx     context.Context
	project string // the project folder as the caller named it
	root    string // its real absolute path
	nmReal  string // real path of root/node_modules (it may be a symlink)

	pkgs   []lockfile.Package
	deps   [][]dep    // what each package declares
	bundle [][]string // each package's bundleDependencies; ["*"] for all
	folder []bool     // package is a folder outside any node_modules

	byReal map[string]int // real path -> package, -1 for "not a package"
	byLoc  map[string]int // a name's place (real parent key + /node_modules/name) -> package
	queue  []nmDir

	rootName   string
	rootDeps   []dep
	workspaces []int // folder packages inside the project: importers

	entries int
}

func newReader(ctx context.Context, dir string) (*reader, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("node_modules: %w", err)
	}
	project := dir
	if filepath.Base(abs) == "node_modules" {
		abs = filepath.Dir(abs)
		project = filepath.Dir(dir)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("node_modules: %w", err)
	}
	nm := filepath.Join(root, "node_modules")
	nmReal, err := filepath.EvalSymlinks(nm)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(nmReal); err == nil && !fi.IsDir() {
			err = syscall.ENOTDIR
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("%s: %w", filepath.Join(project, "node_modules"), ErrNoNodeModules)
		}
		return nil, fmt.Errorf("node_modules: %w", err)
	}
	return &reader{
		ctx:     ctx,
		project: project,
		root:    root,
		nmReal:  nmReal,
		byReal:  map[string]int{root: -1}, // a link back to the project is not a package
		byLoc:   make(map[string]int),
	}, nil
}

// key returns the key of a real path: slash-separated and relative to the
// project, with the project's node_modules spelled node_modules even when
// it is a symlink to elsewhere. inside is false for paths outside.
func (r *reader) key(real string) (key string, inside bool) {
	if rest, ok := cutDir(real, r.nmReal); ok {
		return joinKey("node_modules", filepath.ToSlash(rest)), true
	}
	rel, err := filepath.Rel(r.root, real)
	if err != nil {
		return filepath.ToSlash(real), false
	}
	rel = filepath.ToSlash(rel)
	return rel, rel != ".." && !strings.HasPrefix(rel, "../")
}

// cutDir returns path relative to dir when path is dir or inside it.
func cutDir(path, dir string) (string, bool) {
	if path == dir {
		return "", true
	}
	rest, ok := strings.CutPrefix(path, dir)
	if !ok || !strings.HasPrefix(rest, string(filepath.Separator)) {
		return "", false
	}
	return rest[1:], true
}

func joinKey(dir, name string) string {
	switch {
	case dir == "":
		return name
	case name == "":
		return dir
	}
	return dir + "/" + name
}

// underNodeModules reports whether a key is inside some node_modules.
func underNodeModules(key string) bool {
	return strings.HasPrefix(key, "node_modules/") || strings.Contains(key, "/node_modules/")
}

// nameFromKey returns the package name a node_modules key installs.
func nameFromKey(key string) string {
	if i := strings.LastIndex(key, "/node_modules/"); i >= 0 {
		return key[i+len("/node_modules/"):]
	}
	return strings.TrimPrefix(key, "node_modules/")
}

func (r *reader) walk() (*lockfile.Graph, error) {
	m, err := readManifest(r.root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, r.manifestError(r.root, err)
	}
	if m != nil {
		r.rootName = m.name
		r.rootDeps = m.deps(true)
	}
	r.queue = append(r.queue, nmDir{loc: "node_modules", real: r.nmReal})
	for len(r.queue) > 0 {
		d := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.scan(d); err != nil {
			return nil, err
		}
	}
	return r.build(), nil
}

// scan lists one node_modules folder.
func (r *reader) scan(d nmDir) error {
	ents, err := r.readDir(d.real)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case (name == ".pnpm" || name == ".bun") && d.depth == 0:
			if err := r.scanPnpmStore(filepath.Join(d.real, name), d.loc+"/"+name); err != nil {
				return err
			}
		case strings.HasPrefix(name, "."):
			// .bin, .cache, .package-lock.json, .modules.yaml, .yarn-integrity…
		case strings.HasPrefix(name, "@"):
			scope := filepath.Join(d.real, name)
			if e.Type()&fs.ModeSymlink != 0 {
				if scope, err = filepath.EvalSymlinks(scope); err != nil {
					continue // dangling, or a loop
				}
			}
			sub, err := r.readDir(scope)
			if err != nil {
				return err
			}
			for _, s := range sub {
				if !strings.HasPrefix(s.Name(), ".") {
					if err := r.entry(d, name+"/"+s.Name(), filepath.Join(scope, s.Name()), s.Type()); err != nil {
						return err
					}
				}
			}
		default:
			if err := r.entry(d, name, filepath.Join(d.real, name), e.Type()); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanPnpmStore queues pnpm's virtual store: one node_modules per
// <name>@<version> folder, holding the package and links to its
// dependencies, plus the hoisted .pnpm/node_modules. bun's isolated
// installs copy the layout into node_modules/.bun.
func (r *reader) scanPnpmStore(real, loc string) error {
	ents, err := r.readDir(real)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") {
			continue // lock.yaml and friends
		}
		if name == "node_modules" {
			r.queue = append(r.queue, nmDir{loc: loc + "/node_modules", real: filepath.Join(real, name), depth: 1})
			continue
		}
		r.queue = append(r.queue, nmDir{loc: loc + "/" + name + "/node_modules", real: filepath.Join(real, name, "node_modules"), depth: 1})
	}
	return nil
}

// readDir lists a folder in name order; a folder that is not there, or is
// not a folder, is empty.
func (r *reader) readDir(dir string) ([]os.DirEntry, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|openDirFlags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("node_modules: %w", err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("node_modules: %w", err)
	}
	if r.entries += len(ents); r.entries > maxEntries {
		return nil, fmt.Errorf("%s: more than %d directory entries: %w", r.project, maxEntries, lockfile.ErrTooLarge)
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

// entry handles one name in a node_modules folder.
func (r *reader) entry(d nmDir, name, path string, typ fs.FileMode) error {
	loc := d.loc + "/" + name
	real := path
	link := typ&fs.ModeSymlink != 0
	if link {
		var err error
		if real, err = filepath.EvalSymlinks(path); err != nil {
			return nil // dangling or a loop: nothing Node.js could load either
		}
	}
	i, seen := r.byReal[real]
	if !seen {
		var err error
		if i, err = r.add(real, name, link, d.depth); err != nil {
			return err
		}
	}
	if i < 0 {
		return nil
	}
	r.byLoc[loc] = i
	if link && r.folder[i] {
		r.addLink(loc, name, i)
	}
	return nil
}

// add reads the package in folder real, or remembers that there is none.
// Only a symlink can make a folder of the project's own or from elsewhere;
// a real folder in a node_modules is an installed package wherever a
// symlinked parent puts it.
func (r *reader) add(real, name string, link bool, depth int) (int, error) {
	m, err := readManifest(real)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			// Not a package folder (an empty leftover, a stray file): npm
			// would not load it either.
			r.byReal[real] = -1
			return -1, nil
		}
		return -1, r.manifestError(real, err)
	}
	if len(r.pkgs) >= maxPackages {
		return -1, fmt.Errorf("%s: more than %d packages: %w", r.project, maxPackages, lockfile.ErrTooLarge)
	}
	if len(r.pkgs)%ctxEvery == 0 {
		if err := r.ctx.Err(); err != nil {
			return -1, err
		}
	}
	key, inside := r.key(real)
	folder := link && (!inside || !underNodeModules(key))
	pkg := lockfile.Package{
		Key:       key,
		Location:  lockfile.Location{File: filepath.Join(r.project, filepath.FromSlash(key), "package.json")},
		Integrity: m.integrity,
		Resolved:  m.resolved,
		Bundled:   m.inBundle,
	}
	pkg.Name, pkg.Version = m.name, m.version
	switch {
	case folder && inside:
		pkg.Source = lockfile.SourceWorkspace
	case folder:
		pkg.Source = lockfile.SourceFile
		pkg.Location.File = filepath.Join(real, "package.json")
	default:
		pkg.Source = npmlock.SourceOf(m.resolved)
		placed := name // the name it is installed under
		if underNodeModules(key) {
			placed = nameFromKey(key) // pnpm: the store folder's own name
		}
		if pkg.Name == "" {
			pkg.Name = placed
		} else if placed != pkg.Name {
			pkg.Alias = placed // "x": "npm:real@1" installs real at node_modules/x
		}
	}
	if pkg.Name == "" {
		pkg.Name = name
	}
	i := len(r.pkgs)
	r.byReal[real] = i
	r.pkgs = append(r.pkgs, pkg)
	r.deps = append(r.deps, m.deps(folder && inside))
	r.bundle = append(r.bundle, m.bundle)
	r.folder = append(r.folder, folder)
	if folder && inside {
		r.workspaces = append(r.workspaces, i)
	}
	// Descend only inside the project: a folder linked from elsewhere has
	// its own node_modules, which is that project's business.
	if inside {
		if depth+1 > maxDepth {
			return -1, fmt.Errorf("%s: node_modules nested deeper than %d levels: %w", pkg.Location.File, maxDepth, lockfile.ErrTooLarge)
		}
		r.queue = append(r.queue, nmDir{loc: joinKey(key, "node_modules"), real: filepath.Join(real, "node_modules"), depth: depth + 1})
	}
	return i, nil
}

// addLink records the symlink at loc to the folder package target.
func (r *reader) addLink(loc, name string, target int) {
	t := &r.pkgs[target]
	r.pkgs = append(r.pkgs, lockfile.Package{
		PackageVersion: t.PackageVersion,
		Source:         lockfile.SourceLink,
		Resolved:       t.Key,
		Key:            loc,
		Location:       lockfile.Location{File: filepath.Join(r.project, filepath.FromSlash(loc))},
		Dependencies:   []int{target},
	})
	r.pkgs[len(r.pkgs)-1].Name = name
	r.deps = append(r.deps, nil)
	r.bundle = append(r.bundle, nil)
	r.folder = append(r.folder, false)
}

func (r *reader) manifestError(dir string, err error) error {
	file := filepath.Join(dir, "package.json")
	var pe *lockfile.ParseError
	if errors.As(err, &pe) {
		pe.File = file
		return pe
	}
	return fmt.Errorf("%s: %w", file, err)
}

// resolve finds what name means when required from the package folder at
// key, the way Node.js does (from the real path, nearest node_modules
// first, never above the project). It returns -1 when nothing matches.
func (r *reader) resolve(key, name string) int {
	if strings.HasPrefix(key, "../") || key == ".." || filepath.IsAbs(filepath.FromSlash(key)) {
		return -1 // outside the project: its node_modules were not read
	}
	dir := key
	for {
		if dir[strings.LastIndexByte(dir, '/')+1:] != "node_modules" {
			if i, ok := r.byLoc[joinKey(dir, "node_modules/"+name)]; ok {
				return i
			}
		}
		if dir == "" {
			return -1
		}
		if k := strings.LastIndexByte(dir, '/'); k >= 0 {
			dir = dir[:k]
		} else {
			dir = ""
		}
	}
}

// build resolves edges, sets the flags and sorts the packages by key.
func (r *reader) build() *lockfile.Graph {
	pkgs := r.pkgs
	kinds := make([][]lockfile.DepKind, len(pkgs))
	edges := func(self int, from string, ds []dep) ([]int, []lockfile.DepKind) {
		var out []int
		var ks []lockfile.DepKind
		for _, d := range ds {
			j := r.resolve(from, d.name)
			if j < 0 || j == self || slices.Contains(out, j) {
				continue // missing (optional, peer, or not installed), or itself
			}
			out = append(out, j)
			ks = append(ks, d.kind)
		}
		return out, ks
	}
	for i := range pkgs {
		if pkgs[i].Source != lockfile.SourceLink {
			pkgs[i].Dependencies, kinds[i] = edges(i, pkgs[i].Key, r.deps[i])
		}
	}
	rootEdges, rootKinds := edges(-1, "", r.rootDeps)

	g := &lockfile.Graph{File: filepath.Join(r.project, "node_modules"), Format: lockfile.FormatNodeModules, Packages: pkgs}
	g.Importers = append(g.Importers, lockfile.Importer{Name: r.rootName, Dependencies: rootEdges})
	for _, w := range r.workspaces {
		g.Importers = append(g.Importers, lockfile.Importer{Name: pkgs[w].Name, Path: pkgs[w].Key, Dependencies: pkgs[w].Dependencies})
	}
	calcFlags(g, kinds, rootEdges, rootKinds, r.workspaces)
	markBundled(pkgs, r.bundle)
	finish(g)
	return g
}

// finish marks direct dependencies and puts packages and importers in key
// order, for output that does not depend on directory order.
func finish(g *lockfile.Graph) {
	pkgs := g.Packages
	for i := range pkgs {
		pkgs[i].Direct = false
	}
	for _, imp := range g.Importers {
		for _, d := range imp.Dependencies {
			pkgs[d].Direct = true
		}
	}
	order := make([]int, len(pkgs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(pkgs[a].Key, pkgs[b].Key) })
	newIndex := make([]int, len(order))
	for n, old := range order {
		newIndex[old] = n
	}
	sorted := make([]lockfile.Package, len(pkgs))
	for n, old := range order {
		sorted[n] = pkgs[old]
	}
	remap := func(deps []int) []int {
		out := make([]int, len(deps))
		for k, d := range deps {
			out[k] = newIndex[d]
		}
		return out
	}
	for n := range sorted {
		if sorted[n].Dependencies != nil {
			sorted[n].Dependencies = remap(sorted[n].Dependencies)
		}
	}
	for k := range g.Importers {
		g.Importers[k].Dependencies = remap(g.Importers[k].Dependencies)
	}
	imps := g.Importers[1:]
	slices.SortFunc(imps, func(a, b lockfile.Importer) int { return strings.Compare(a.Path, b.Path) })
	g.Packages = sorted
}

// calcFlags sets Dev, Optional, DevOptional and Peer the way npm's
// calc-dep-flags does (see lockfile.DepFlags). The roots are the project's
// dependencies and those of its workspaces, whose packages npm links from
// the root and flags nothing; links carry no flags either, and have no
// edges of their own here. Packages nothing reaches keep no flags (npm
// calls them extraneous).
func calcFlags(g *lockfile.Graph, kinds [][]lockfile.DepKind, rootEdges []int, rootKinds []lockfile.DepKind, workspaces []int) {
	pkgs := g.Packages
	roots := make([]lockfile.Edge, 0, len(rootEdges))
	for k, to := range rootEdges {
		roots = append(roots, lockfile.Edge{To: to, Kind: rootKinds[k]})
	}
	for _, w := range workspaces {
		for k, to := range pkgs[w].Dependencies {
			roots = append(roots, lockfile.Edge{To: to, Kind: kinds[w][k]})
		}
	}
	flags := lockfile.DepFlags(g, roots, func(from, k int) lockfile.DepKind { return kinds[from][k] })
	for i := range pkgs {
		if pkgs[i].Source != lockfile.SourceLink && pkgs[i].Source != lockfile.SourceWorkspace {
			flags[i].Apply(&pkgs[i])
		}
	}
}

// markBundled flags packages shipped inside another package's tarball:
// those its parent folder lists in bundleDependencies, and what they need
// that sits inside the same bundling package.
func markBundled(pkgs []lockfile.Package, bundle [][]string) {
	byKey := make(map[string]int, len(pkgs))
	for i := range pkgs {
		byKey[pkgs[i].Key] = i
	}
	bundler := make([]string, len(pkgs)) // key of the package whose tarball holds it
	var queue []int
	for i := range pkgs {
		key := pkgs[i].Key
		k := strings.LastIndex(key, "/node_modules/")
		if k < 0 {
			continue
		}
		parent, ok := byKey[key[:k]]
		if !ok {
			continue
		}
		name := key[k+len("/node_modules/"):]
		if b := bundle[parent]; slices.Contains(b, name) || slices.Contains(b, "*") {
			pkgs[i].Bundled = true
			bundler[i] = key[:k]
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		n := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, d := range pkgs[n].Dependencies {
			if !pkgs[d].Bundled && strings.HasPrefix(pkgs[d].Key, bundler[n]+"/node_modules/") {
				pkgs[d].Bundled = true
				bundler[d] = bundler[n]
				queue = append(queue, d)
			}
		}
	}
}

// readManifest reads dir/package.json, refusing oversized files.
func readManifest(dir string) (*manifest, error) {
	data, err := readRegular(filepath.Join(dir, "package.json"), maxManifestSize)
	if err != nil {
		return nil, err
	}
	return parseManifest(data)
}

// errNotRegular is a package.json that is a FIFO, a device or a folder.
var errNotRegular = errors.New("not a regular file")

// readRegular reads a regular file of at most limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFileFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, fmt.Errorf("%w: a folder", errNotRegular)
		}
		return nil, errNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, lockfile.ErrTooLarge)
	}
	return data, nil
}
