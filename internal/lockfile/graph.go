// Package lockfile reads every npm-ecosystem lockfile format (package-lock,
// npm-shrinkwrap, yarn classic and berry, pnpm, bun.lock), node_modules trees
// and SBOMs into one dependency Graph. It knows nothing of advisories.
package lockfile

import (
	"cmp"
	"slices"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Format names a lockfile dialect as detected from its content.
type Format string

const (
	FormatPackageLockV1 Format = "package-lock.json v1"
	FormatPackageLockV2 Format = "package-lock.json v2"
	FormatPackageLockV3 Format = "package-lock.json v3"
	FormatShrinkwrapV1  Format = "npm-shrinkwrap.json v1"
	FormatShrinkwrapV2  Format = "npm-shrinkwrap.json v2"
	FormatShrinkwrapV3  Format = "npm-shrinkwrap.json v3"
	FormatYarnV1        Format = "yarn.lock v1"
	FormatYarnBerry     Format = "yarn.lock berry" // __metadata.version 4+ (yarn 2, 3, 4)
	FormatPnpmV5        Format = "pnpm-lock.yaml v5"
	FormatPnpmV6        Format = "pnpm-lock.yaml v6"
	FormatPnpmV9        Format = "pnpm-lock.yaml v9"
	FormatBunLock       Format = "bun.lock"
	FormatNodeModules   Format = "node_modules"
	FormatCycloneDX     Format = "CycloneDX JSON"
	FormatSPDX          Format = "SPDX JSON"
)

// Source says where a package's bytes come from, as its lockfile records it.
type Source string

const (
	SourceRegistry  Source = "registry"  // a registry tarball (the usual case)
	SourceGit       Source = "git"       // git+https://, github:, git+ssh:// …
	SourceTarball   Source = "tarball"   // an arbitrary https:// .tgz URL
	SourceFile      Source = "file"      // file: a local folder or tarball
	SourceLink      Source = "link"      // link: or a symlinked folder
	SourceWorkspace Source = "workspace" // a package of this project itself
	SourcePatch     Source = "patch"     // yarn berry patch: of another package
)

// Location is where a lockfile declared something. Line and Column are
// 1-based; 0 means unknown.
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Package is one resolved package instance. The same name@version can
// appear more than once in a Graph when a lockfile installs it at several
// places (npm nests copies; pnpm has peer-dependency variants).
type Package struct {
	npm.PackageVersion
	// Integrity is the SRI string the lockfile recorded ("sha512-…"), or a
	// hex sha1 for yarn v1 entries that only carry a URL fragment; "" when
	// the lockfile has none.
	Integrity string
	// Resolved is the URL or specifier the bytes come from, as recorded.
	Resolved string
	Source   Source
	// Alias is the name the dependent asked for when it differs from the
	// real package name (npm:real@1.0.0 aliases).
	Alias string

	Dev         bool // only needed for development
	Optional    bool // only needed as an optional dependency
	DevOptional bool // npm: dev in some paths, optional in others
	Peer        bool // only present as a peer dependency
	Bundled     bool // shipped inside its parent's tarball (inBundle)
	Direct      bool // a direct dependency of the root or of a workspace

	// Key is the lockfile's own key for this entry (a node_modules path, a
	// yarn descriptor list, a pnpm snapshot key), unique within the Graph.
	Key      string
	Location Location
	// Dependencies are indices into Graph.Packages.
	Dependencies []int
}

// Importer is a root of the graph: the project itself or one of its
// workspaces. Its Path is relative to the lockfile's folder ("" or "." for
// the root project).
type Importer struct {
	Name string
	Path string
	// Dependencies are indices into Graph.Packages of what this importer
	// depends on directly (all kinds: prod, dev, optional, peer).
	Dependencies []int
}

// Graph is everything one lockfile (or tree, or SBOM) says is installed.
type Graph struct {
	File      string
	Format    Format
	Importers []Importer
	Packages  []Package
}

// ThirdParty returns the distinct name@version pairs of packages that come
// from outside the project (everything but workspace and link packages),
// sorted by name then version string.
func (g *Graph) ThirdParty() []npm.PackageVersion {
	seen := make(map[npm.PackageVersion]bool, len(g.Packages))
	var out []npm.PackageVersion
	for i := range g.Packages {
		p := &g.Packages[i]
		if p.Source == SourceWorkspace || p.Source == SourceLink {
			continue
		}
		if !seen[p.PackageVersion] {
			seen[p.PackageVersion] = true
			out = append(out, p.PackageVersion)
		}
	}
	sortPackageVersions(out)
	return out
}

func sortPackageVersions(pvs []npm.PackageVersion) {
	slices.SortFunc(pvs, func(a, b npm.PackageVersion) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
}

// Path is one chain of dependencies from an importer to a package: the
// importer's name first, the package itself last.
type Path []string

// PathsTo returns up to limit shortest dependency paths from any importer to
// the package at index target. Packages no importer reaches (a lockfile
// with stale entries, an SBOM without relationships) get a single path
// holding just the package.
func (g *Graph) PathsTo(target, limit int) []Path {
	return g.PathFinder().PathsTo(target, limit)
}

// PathFinder precomputes reverse edges once so that paths to many packages
// of the same graph are cheap.
func (g *Graph) PathFinder() *PathFinder {
	pf := &PathFinder{g: g, parents: make([][]int32, len(g.Packages)), importerOf: make([][]int32, len(g.Packages))}
	for i := range g.Packages {
		for _, d := range g.Packages[i].Dependencies {
			pf.parents[d] = append(pf.parents[d], int32(i))
		}
	}
	for i, imp := range g.Importers {
		for _, d := range imp.Dependencies {
			pf.importerOf[d] = append(pf.importerOf[d], int32(i))
		}
	}
	return pf
}

// PathFinder answers "through which dependencies is this package here?".
type PathFinder struct {
	g          *Graph
	parents    [][]int32 // package index -> packages that depend on it
	importerOf [][]int32 // package index -> importers that depend on it directly
}

// PathsTo walks parent edges breadth-first from target, so the first paths
// found are the shortest; it stops after limit paths.
func (pf *PathFinder) PathsTo(target, limit int) []Path {
	if limit <= 0 {
		limit = 1
	}
	type node struct {
		pkg  int32
		next *node // towards target
	}
	label := func(i int32) string { return pf.g.Packages[i].PackageVersion.String() }
	var out []Path
	visited := make(map[int32]bool)
	queue := []*node{{pkg: int32(target)}}
	visited[int32(target)] = true
	for len(queue) > 0 && len(out) < limit {
		n := queue[0]
		queue = queue[1:]
		for _, imp := range pf.importerOf[n.pkg] {
			p := Path{importerLabel(pf.g.Importers[imp])}
			for m := n; m != nil; m = m.next {
				p = append(p, label(m.pkg))
			}
			out = append(out, p)
			if len(out) == limit {
				return out
			}
		}
		for _, parent := range pf.parents[n.pkg] {
			if !visited[parent] {
				visited[parent] = true
				queue = append(queue, &node{pkg: parent, next: n})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Path{label(int32(target))})
	}
	return out
}

func importerLabel(imp Importer) string {
	switch {
	case imp.Name != "":
		return imp.Name
	case imp.Path == "" || imp.Path == ".":
		return "(root)"
	}
	return imp.Path
}
