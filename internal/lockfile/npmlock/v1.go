package npmlock

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// parseV1Tree reads a lockfileVersion 1 "dependencies" object whose entries
// are installed in parent's node_modules (parent "" is the project). Each
// package gets the key its folder would have, node_modules/a/node_modules/b,
// so that versions 1 and 2+ share keys and the resolver.
//
// Recursion follows the JSON nesting, which the scanner bounds.
func (p *parser) parseV1Tree(parent string) error {
	s := p.s
	o, err := s.object(`an object for "dependencies"`)
	if err != nil {
		return err
	}
	for {
		name, off, done, err := o.next()
		if err != nil || done {
			return err
		}
		if err := p.tick(); err != nil {
			return err
		}
		if name == "" {
			return s.errorAt(off, "empty package name in \"dependencies\"")
		}
		key := "node_modules/" + name
		if parent != "" {
			key = parent + "/node_modules/" + name
		}
		if err := p.parseV1Entry(key, name, off, len(parent)); err != nil {
			return err
		}
	}
}

func (p *parser) parseV1Entry(key, name string, off, dirLen int) error {
	s := p.s
	// The location is taken before nested entries are read, so that the
	// scanner's line counting moves forward only.
	pkg := lockfile.Package{Key: key, Location: p.location(off)}
	info := pkgInfo{dirLen: int32(dirLen)}
	// Take the index before nested entries so that parents come first.
	i, _ := p.add(pkg, info)
	o, err := s.object("an object for a package entry")
	if err != nil {
		return err
	}
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
		case "dev":
			pkg.Dev, err = s.boolValue(field)
		case "optional":
			pkg.Optional, err = s.boolValue(field)
		case "bundled":
			pkg.Bundled, err = s.boolValue(field)
		case "requires":
			if s.peek() != '{' { // `"requires": true` at the top of old files
				err = s.skip()
				break
			}
			info.depStart = int32(len(p.depNames))
			err = p.depMap()
			info.depEnd = int32(len(p.depNames))
		case "dependencies":
			err = p.parseV1Tree(key)
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
	classifyV1(&pkg, name)
	p.pkgs[i], p.info[i] = pkg, info
	return nil
}

// classifyV1 sets Name, Version, Alias and Source of a version 1 entry. In
// version 1 "version" holds the spec itself for anything not from the
// registry (a git URL, a file: path, a tarball URL, npm:real@version for an
// alias) and the real version is not recorded at all.
func classifyV1(pkg *lockfile.Package, name string) {
	pkg.Name = name
	v := pkg.Version
	switch {
	case strings.HasPrefix(v, "npm:"):
		spec := v[len("npm:"):]
		if at := strings.LastIndexByte(spec, '@'); at > 0 {
			pkg.Name, pkg.Version = spec[:at], spec[at+1:]
			if pkg.Name != name {
				pkg.Alias = name
			}
		}
		pkg.Source = SourceOf(pkg.Resolved)
	case strings.HasPrefix(v, "file:"):
		// npm 6 symlinks a file: folder and unpacks a file: tarball.
		if isArchive(v) {
			pkg.Source = lockfile.SourceFile
		} else {
			pkg.Source = lockfile.SourceLink
		}
	case isGitSpec(v):
		pkg.Source = lockfile.SourceGit
	case strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://"):
		pkg.Source = SourceOf(v)
	default:
		pkg.Source = SourceOf(pkg.Resolved)
	}
}

func isArchive(spec string) bool {
	for _, ext := range []string{".tgz", ".tar.gz", ".tar"} {
		if strings.HasSuffix(spec, ext) {
			return true
		}
	}
	return false
}

// buildV1 resolves version 1 "requires" into edges. Version 1 does not
// record what the project itself depends on, so the root importer gets the
// top-level packages that nothing else requires: those must be direct
// dependencies (or extraneous). A direct dependency that some other package
// also requires cannot be told apart and is not marked Direct.
func (p *parser) buildV1(g *lockfile.Graph) {
	pkgs := p.pkgs
	p.arena = make([]int, 0, len(p.depNames)+len(pkgs))
	p.markNested()
	required := make([]bool, len(pkgs))
	for i := range pkgs {
		info := &p.info[i]
		if info.depEnd > info.depStart {
			pkgs[i].Dependencies = p.edges(int32(i), pkgs[i].Key, info.depStart, info.depEnd)
			for _, d := range pkgs[i].Dependencies {
				required[d] = true
			}
		}
	}
	root := lockfile.Importer{Name: p.rootName}
	for i := range pkgs {
		if !required[i] && !strings.Contains(pkgs[i].Key, "/node_modules/") {
			root.Dependencies = append(root.Dependencies, i)
		}
	}
	g.Importers = []lockfile.Importer{root}
	markDirect(g.Importers, pkgs)
	g.Packages = pkgs
}
