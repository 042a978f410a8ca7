// Package npmlock reads npm's package-lock.json and npm-shrinkwrap.json,
// lockfileVersion 1, 2 and 3, into a lockfile.Graph.
//
// Versions 2 and 3 are read from the flat "packages" map keyed by install
// path; version 1 from the nested "dependencies" tree. Edges are found the
// way Node.js finds a module: from the folder of the dependent, the nearest
// node_modules/<name> walking up.
package npmlock

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Reader reads package-lock.json and npm-shrinkwrap.json.
type Reader struct{}

var _ lockfile.Reader = Reader{}

func (Reader) Name() string { return "package-lock" }

// Matches accepts the two file names npm writes in a project folder. The
// hidden node_modules/.package-lock.json is left to the node_modules reader,
// which checks it against the tree; Parse reads it all the same.
func (Reader) Matches(base string) bool {
	return base == "package-lock.json" || base == "npm-shrinkwrap.json"
}

// ctxEvery is how many entries are read between checks of the context.
const ctxEvery = 256

// Parse reads the whole lockfile data found at file.
func (Reader) Parse(ctx context.Context, file string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes: %w", file, len(data), lockfile.ErrTooLarge)
	}
	p := &parser{
		ctx: ctx,
		s:   newScanner(file, data),
		// A package entry takes 300 to 600 bytes of JSON; sizing from the
		// file avoids regrowing the big slices and the map.
		index: make(map[string]int32, len(data)/400+8),
	}
	p.pkgs = make([]lockfile.Package, 0, len(data)/400+8)
	p.info = make([]pkgInfo, 0, cap(p.pkgs))
	return p.parse()
}

// pkgInfo is what the parser keeps about a package beyond lockfile.Package
// until edges are resolved.
type pkgInfo struct {
	depStart, depEnd int32  // names this entry depends on, in parser.depNames
	linkTarget       string // "resolved" of a link entry: the target folder key
	hasChildren      bool   // some key is under this one's node_modules
	// dirLen is the length of the key's prefix naming the folder whose
	// node_modules holds the package; 0 for the project's own node_modules
	// and for folders.
	dirLen  int32
	hasName bool // the entry carried an explicit "name"
}

type parser struct {
	ctx context.Context
	s   *scanner

	lockfileVersion int
	rootName        string

	pkgs  []lockfile.Package
	info  []pkgInfo
	index map[string]int32 // lockfile key -> index into pkgs
	// nested holds every folder that has a node_modules with entries in
	// it, so that resolution looks up only folders that can hold a match.
	nested map[string]bool

	root    *rootEntry
	folders []int32 // packages that are folders inside the project: importers

	depNames []string // arena of dependency names, ranges in pkgInfo
	arena    []int    // backing array of every Dependencies slice
	buf      []byte   // scratch for resolution keys
	dirs     []string // scratch for search paths
	entries  int      // entries read, for context checks
}

// rootEntry is the "" entry of "packages": the project itself.
type rootEntry struct {
	name             string
	depStart, depEnd int32
}

func (p *parser) parse() (*lockfile.Graph, error) {
	s := p.s
	top, err := s.object("'{': a package-lock.json is a JSON object")
	if err != nil {
		return nil, err
	}
	// Versions 2 and 3 are read from "packages", version 1 from the
	// "dependencies" tree (which version 2 repeats for old npm). npm writes
	// lockfileVersion first, so the right section is read as it comes and
	// the other only validated; in any other order, the right one is read
	// again from its offset at the end.
	packagesOff, depsOff, readOff := -1, -1, -1
	for {
		key, _, done, err := top.next()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		switch key {
		case "lockfileVersion":
			if c := s.peek(); c != '-' && (c < '0' || c > '9') {
				return nil, s.expected("a number for \"lockfileVersion\"")
			}
			off := s.pos
			n, err := s.number()
			if err != nil {
				return nil, err
			}
			switch n {
			case "1", "2", "3":
				p.lockfileVersion = int(n[0] - '0')
			default:
				pe := s.errorAt(off, "unsupported lockfileVersion %s: Vigil reads lockfileVersion 1, 2 and 3", n)
				pe.Err = lockfile.ErrUnsupported
				return nil, pe
			}
		case "name":
			if p.rootName, err = s.stringValue("name"); err != nil {
				return nil, err
			}
		case "packages":
			packagesOff = s.pos
			if p.lockfileVersion >= 2 {
				readOff = s.pos
				err = p.readSection(packagesOff, true)
			} else {
				err = s.skip()
			}
		case "dependencies":
			depsOff = s.pos
			if p.lockfileVersion == 1 {
				readOff = s.pos
				err = p.readSection(depsOff, false)
			} else {
				err = s.skip()
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}

	g := &lockfile.Graph{File: s.file}
	shrinkwrap := path.Base(strings.ReplaceAll(s.file, `\`, "/")) == "npm-shrinkwrap.json"
	switch p.lockfileVersion {
	case 0:
		pe := &lockfile.ParseError{File: s.file, Msg: `no "lockfileVersion": not a package-lock.json written by npm 5 or later`}
		pe.Err = lockfile.ErrUnsupported
		return nil, pe
	case 1:
		g.Format = pick(shrinkwrap, lockfile.FormatShrinkwrapV1, lockfile.FormatPackageLockV1)
	case 2:
		g.Format = pick(shrinkwrap, lockfile.FormatShrinkwrapV2, lockfile.FormatPackageLockV2)
	case 3:
		g.Format = pick(shrinkwrap, lockfile.FormatShrinkwrapV3, lockfile.FormatPackageLockV3)
	}
	usePackages := p.lockfileVersion >= 2 && (packagesOff >= 0 || depsOff < 0)
	want := pick(usePackages, packagesOff, depsOff)
	if want != readOff {
		if err := p.readSection(want, usePackages); err != nil {
			return nil, err
		}
	}
	if err := p.ctx.Err(); err != nil {
		return nil, err
	}
	if usePackages {
		p.buildPackages(g)
	} else {
		p.buildV1(g)
	}
	return g, nil
}

// readSection reads the "packages" map or the version 1 "dependencies"
// tree at offset off (-1: there is none) into a fresh parser state.
func (p *parser) readSection(off int, packages bool) error {
	p.reset()
	if off < 0 {
		return nil
	}
	p.s.pos = off
	if packages {
		return p.parsePackages()
	}
	return p.parseV1Tree("")
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

func (p *parser) reset() {
	p.pkgs = p.pkgs[:0]
	p.info = p.info[:0]
	clear(p.index)
	p.root = nil
	p.folders = p.folders[:0]
	p.depNames = p.depNames[:0]
}

// add records a package under its key; a repeated key replaces the earlier
// entry, as JSON.parse keeps the last of duplicate keys.
func (p *parser) add(pkg lockfile.Package, info pkgInfo) (i int32, isNew bool) {
	if i, ok := p.index[pkg.Key]; ok {
		p.pkgs[i], p.info[i] = pkg, info
		return i, false
	}
	i = int32(len(p.pkgs))
	p.index[pkg.Key] = i
	p.pkgs = append(p.pkgs, pkg)
	p.info = append(p.info, info)
	return i, true
}

func (p *parser) tick() error {
	p.entries++
	if p.entries%ctxEvery == 0 {
		return p.ctx.Err()
	}
	return nil
}

func (p *parser) location(off int) lockfile.Location {
	line, col := p.s.position(off)
	return lockfile.Location{File: p.s.file, Line: line, Column: col}
}

// depMap reads {"name": "range", …} and appends the names to depNames.
func (p *parser) depMap() error {
	s := p.s
	o, err := s.object("an object of dependency names")
	if err != nil {
		return err
	}
	for {
		name, _, done, err := o.next()
		if err != nil || done {
			return err
		}
		if err := s.skip(); err != nil { // the range; edges need only the name
			return err
		}
		if name != "" {
			p.depNames = append(p.depNames, name)
		}
	}
}

// parsePackages reads the "packages" map of lockfileVersion 2 and 3.
func (p *parser) parsePackages() error {
	s := p.s
	o, err := s.object(`an object for "packages"`)
	if err != nil {
		return err
	}
	for {
		key, off, done, err := o.next()
		if err != nil || done {
			return err
		}
		if err := p.tick(); err != nil {
			return err
		}
		if err := p.parsePackage(key, off); err != nil {
			return err
		}
	}
}

func (p *parser) parsePackage(key string, off int) error {
	s := p.s
	o, err := s.object("an object for a package entry")
	if err != nil {
		return err
	}
	pkg := lockfile.Package{Key: key}
	info := pkgInfo{depStart: int32(len(p.depNames))}
	var link bool
	for {
		field, _, done, err := o.next()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch field {
		case "version":
			pkg.Version, err = s.stringValue(field)
		case "resolved":
			pkg.Resolved, err = s.stringValue(field)
		case "integrity":
			pkg.Integrity, err = s.stringValue(field)
		case "name":
			pkg.Name, err = s.stringValue(field)
			info.hasName = true
		case "link":
			link, err = s.boolValue(field)
		case "dev":
			pkg.Dev, err = s.boolValue(field)
		case "optional":
			pkg.Optional, err = s.boolValue(field)
		case "devOptional":
			pkg.DevOptional, err = s.boolValue(field)
		case "peer":
			pkg.Peer, err = s.boolValue(field)
		case "inBundle":
			pkg.Bundled, err = s.boolValue(field)
		case "dependencies", "devDependencies", "optionalDependencies", "peerDependencies":
			err = p.depMap()
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
	info.depEnd = int32(len(p.depNames))

	if key == "" {
		p.root = &rootEntry{name: pkg.Name, depStart: info.depStart, depEnd: info.depEnd}
		return nil
	}
	pkg.Location = p.location(off)
	keyName, inNodeModules := nameFromKey(key)
	switch {
	case inNodeModules && keyName == "":
		return s.errorAt(off, "package key %q does not end in a package name", key)
	case link:
		pkg.Source = lockfile.SourceLink
		pkg.Name = keyName
		info.linkTarget = cleanFolder(pkg.Resolved)
	case !inNodeModules:
		// A folder: a workspace, or the target of a file: link. Inside the
		// project it is the project's own code; outside (../lib) it is a
		// local folder from elsewhere.
		if outsideProject(key) {
			pkg.Source = lockfile.SourceFile
		} else {
			pkg.Source = lockfile.SourceWorkspace
		}
		if pkg.Name == "" {
			pkg.Name = path.Base(key) // replaced by a link's name when one points here
		}
	default:
		info.dirLen = int32(max(len(key)-len(keyName)-len("/node_modules/"), 0))
		pkg.Source = SourceOf(pkg.Resolved)
		if pkg.Name == "" {
			pkg.Name = keyName
		} else if pkg.Name != keyName {
			pkg.Alias = keyName // "foo": "npm:bar@1" installs bar at node_modules/foo
		}
	}
	if i, isNew := p.add(pkg, info); isNew && pkg.Source == lockfile.SourceWorkspace {
		p.folders = append(p.folders, i)
	}
	return nil
}

// nameFromKey returns the package name at the end of a node_modules path
// and whether key is one; a folder key (a workspace) returns false.
func nameFromKey(key string) (name string, ok bool) {
	if i := strings.LastIndex(key, "/node_modules/"); i >= 0 {
		return key[i+len("/node_modules/"):], true
	}
	if rest, ok := strings.CutPrefix(key, "node_modules/"); ok {
		return rest, true
	}
	return "", false
}

func outsideProject(folder string) bool {
	return folder == ".." || strings.HasPrefix(folder, "../") || strings.HasPrefix(folder, "/") ||
		(len(folder) > 1 && folder[1] == ':') // C:/…
}

// cleanFolder normalises a link's "resolved" into the key of its target.
func cleanFolder(resolved string) string {
	f := strings.ReplaceAll(strings.TrimPrefix(resolved, "file:"), `\`, "/")
	if f == "" {
		return ""
	}
	f = path.Clean(f)
	if f == "." {
		return ""
	}
	return f
}

// buildPackages resolves edges and importers for lockfileVersion 2 and 3.
func (p *parser) buildPackages(g *lockfile.Graph) {
	pkgs := p.pkgs
	p.arena = make([]int, 0, len(p.depNames)+len(pkgs))
	p.markNested()
	// Links take their version from their target, and a folder with no name
	// of its own takes the name the link installs it under.
	for i := range pkgs {
		if pkgs[i].Source != lockfile.SourceLink {
			continue
		}
		if j, ok := p.index[p.info[i].linkTarget]; ok {
			pkgs[i].Version = pkgs[j].Version
			if !p.info[j].hasName {
				pkgs[j].Name = pkgs[i].Name
			}
		}
	}
	for i := range pkgs {
		pkg := &pkgs[i]
		info := &p.info[i]
		if pkg.Source == lockfile.SourceLink {
			if j, ok := p.index[info.linkTarget]; ok && int(j) != i {
				p.arena = append(p.arena, int(j))
				pkg.Dependencies = p.arena[len(p.arena)-1 : len(p.arena) : len(p.arena)]
			}
			continue
		}
		if info.depEnd > info.depStart {
			pkg.Dependencies = p.edges(int32(i), pkg.Key, info.depStart, info.depEnd)
		}
	}

	root := lockfile.Importer{Name: p.rootName}
	if p.root != nil {
		if p.root.name != "" {
			root.Name = p.root.name
		}
		root.Dependencies = p.edges(-1, "", p.root.depStart, p.root.depEnd)
	}
	g.Importers = make([]lockfile.Importer, 0, 1+len(p.folders))
	g.Importers = append(g.Importers, root)
	for _, i := range p.folders {
		g.Importers = append(g.Importers, lockfile.Importer{
			Name:         pkgs[i].Name,
			Path:         pkgs[i].Key,
			Dependencies: pkgs[i].Dependencies,
		})
	}
	markDirect(g.Importers, pkgs)
	g.Packages = pkgs
}

func markDirect(importers []lockfile.Importer, pkgs []lockfile.Package) {
	for _, imp := range importers {
		for _, d := range imp.Dependencies {
			pkgs[d].Direct = true
		}
	}
}

// edges resolves the names depNames[start:end] required by package self
// (-1 for the root) from folder from
// into a deduplicated edge list. All lists share one arena: each is a
// capped sub-slice, so a caller appending to one cannot clobber the next.
func (p *parser) edges(self int32, from string, start, end int32) []int {
	begin := len(p.arena)
	dirs := p.searchPath(self, from)
names:
	for _, name := range p.depNames[start:end] {
		j := p.resolve(dirs, name)
		if j < 0 || j == self {
			// A missing optional or peer dependency, or a stale entry; or a
			// package requiring its own name, which adds nothing to a path.
			continue
		}
		for _, k := range p.arena[begin:] {
			if k == int(j) {
				continue names
			}
		}
		p.arena = append(p.arena, int(j))
	}
	if len(p.arena) == begin {
		return nil
	}
	return p.arena[begin:len(p.arena):len(p.arena)]
}

// markNested fills nested with every folder that has entries in its
// node_modules, and sets hasChildren on the packages among them.
func (p *parser) markNested() {
	p.nested = make(map[string]bool)
	for i := range p.pkgs {
		if n := p.info[i].dirLen; n > 0 {
			p.nested[p.pkgs[i].Key[:n]] = true
		}
	}
	for dir := range p.nested {
		if j, ok := p.index[dir]; ok {
			p.info[j].hasChildren = true
		}
	}
}

// searchPath lists the folders whose node_modules a package at folder from
// looks in, nearest first, as Node.js does: from itself, then each parent
// folder, skipping folders that are themselves node_modules. Only folders
// that hold entries are listed. self is the package at from (-1 for the
// root), whose hasChildren spares a lookup.
func (p *parser) searchPath(self int32, from string) []string {
	dirs := p.dirs[:0]
	// A folder outside the project (a file: link target) has its own
	// node_modules outside the lockfile; it never sees the project's.
	outside := outsideProject(from)
	for dir := from; ; {
		if dir == "" {
			if !outside {
				dirs = append(dirs, "")
			}
			break
		}
		k := strings.LastIndexByte(dir, '/')
		if dir[k+1:] != "node_modules" {
			has := false
			if self >= 0 && len(dir) == len(from) {
				has = p.info[self].hasChildren
			} else {
				has = p.nested[dir]
			}
			if has {
				dirs = append(dirs, dir)
			}
		}
		dir = dir[:max(k, 0)]
	}
	p.dirs = dirs
	return dirs
}

// resolve finds the package that name means for a package whose search
// path is dirs: the first dir/node_modules/name there is. A link resolves
// to the folder it points at. It returns -1 when nothing matches.
func (p *parser) resolve(dirs []string, name string) int32 {
	for _, dir := range dirs {
		b := p.buf[:0]
		if dir != "" {
			b = append(b, dir...)
			b = append(b, '/')
		}
		b = append(b, "node_modules/"...)
		b = append(b, name...)
		p.buf = b
		if i, ok := p.index[string(b)]; ok {
			if t := p.info[i].linkTarget; t != "" {
				if j, ok := p.index[t]; ok {
					return j
				}
			}
			return i
		}
	}
	return -1
}

// SourceOf classifies a "resolved" URL or specifier as npm records it. An
// empty one is a registry package: npm leaves it out for registry tarballs
// when omit-lockfile-registry-resolved is set, and for bundled packages.
func SourceOf(resolved string) lockfile.Source {
	switch {
	case resolved == "":
		return lockfile.SourceRegistry
	case isGitSpec(resolved):
		return lockfile.SourceGit
	case strings.HasPrefix(resolved, "file:"):
		return lockfile.SourceFile
	case strings.HasPrefix(resolved, "https://") || strings.HasPrefix(resolved, "http://"):
		// Registries serve tarballs at <registry>/<name>/-/<file>.tgz, npm's
		// own and mirrors (Artifactory, Verdaccio, GitHub Packages) alike.
		if strings.Contains(resolved, "/-/") {
			return lockfile.SourceRegistry
		}
		return lockfile.SourceTarball
	}
	// A relative folder without "file:" (a link target written by hand).
	return lockfile.SourceFile
}

func isGitSpec(s string) bool {
	for _, prefix := range []string{"git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
