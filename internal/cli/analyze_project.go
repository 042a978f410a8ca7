package cli

import (
	"context"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/readers"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/report"
)

// project is a lockfile or node_modules tree being analysed.
type project struct {
	arg   string
	kind  targetKind
	graph *lockfile.Graph
	meta  report.AnalyzeProject

	pfOnce sync.Once
	pf     *lockfile.PathFinder
}

// depUnit is one distinct third-party package of a project: a
// name@version with one integrity (or none), analysed once however many
// times the project installs it.
type depUnit struct {
	proj *project
	pkg  lockfile.Package
	// index is the package's first occurrence in proj.graph, for
	// dependency paths.
	index int
	// folder is where the package is installed, "" when it is not.
	folder string
}

func (u *depUnit) id() string { return u.pkg.Name + "@" + u.pkg.Version }

// Skip reasons, as the report counts them.
var skipReasons = map[lockfile.Source]string{
	lockfile.SourceWorkspace: "workspace",
	lockfile.SourceLink:      "link",
	lockfile.SourceFile:      "file",
	lockfile.SourcePatch:     "patch",
}

// expandProject reads a lockfile or node_modules tree and returns its
// distinct third-party packages. Packages of the project itself
// (workspace, link, file:, patch:) are counted as skipped, and so are
// bundled dependencies that are not installed: their code is inside their
// parent's tarball and analysed with it.
func (a *analyzer) expandProject(ctx context.Context, t analyzeTarget) (*project, []depUnit, error) {
	p := &project{arg: t.arg, kind: t.kind, meta: report.AnalyzeProject{Path: t.arg, Kind: string(t.kind), Skipped: map[string]int{}}}
	var (
		g         *lockfile.Graph
		err       error
		installed map[string][]installedPkg
	)
	if t.kind == kindLockfile {
		g, err = readers.ReadFile(ctx, t.arg, 0)
		if err == nil {
			installed = a.installedBeside(ctx, t.arg)
		}
	} else {
		g, err = readers.ReadNodeModules(ctx, t.arg)
	}
	if err != nil {
		p.meta.Error = "cannot read: " + rules.Sanitize(err.Error(), 400)
		return p, nil, err
	}
	p.graph = g
	p.meta.Format = string(g.Format)

	seen := map[string]bool{}
	var units []depUnit
	for i := range g.Packages {
		pkg := &g.Packages[i]
		if reason, ok := skipReasons[pkg.Source]; ok {
			p.meta.Skipped[reason]++
			continue
		}
		u := depUnit{proj: p, pkg: *pkg, index: i}
		if t.kind == kindNodeModules {
			u.folder = installedFolder(pkg)
		} else {
			u.folder = matchInstalled(installed[u.id()], pkg.Integrity)
		}
		key := u.id() + "\x00" + normalIntegrity(pkg.Integrity)
		if seen[key] {
			continue
		}
		if pkg.Bundled && u.folder == "" {
			p.meta.Skipped["bundled"]++
			continue
		}
		seen[key] = true
		if u.folder != "" {
			p.meta.Installed++
		}
		units = append(units, u)
	}
	p.meta.Packages = len(units)
	a.e.logger.Debug("project read", "path", t.arg, "format", g.Format, "packages", len(g.Packages), "distinct", len(units), "installed", p.meta.Installed)
	return p, units, nil
}

// installedPkg is a package found in the node_modules beside a lockfile.
type installedPkg struct {
	folder, integrity string
}

// installedBeside reads the node_modules tree next to a lockfile, if
// there is one, and indexes its packages by name@version. Failing to read
// it only means the packages come from the caches or the registry.
func (a *analyzer) installedBeside(ctx context.Context, lockfilePath string) map[string][]installedPkg {
	dir := filepath.Dir(lockfilePath)
	if !isDir(filepath.Join(dir, "node_modules")) {
		return nil
	}
	tree, err := readers.ReadNodeModules(ctx, dir)
	if err != nil {
		a.e.logger.Warn("cannot read the node_modules beside the lockfile; using the caches and the registry", "dir", dir, "err", err)
		return nil
	}
	out := map[string][]installedPkg{}
	for i := range tree.Packages {
		pkg := &tree.Packages[i]
		if folder := installedFolder(pkg); folder != "" {
			id := pkg.Name + "@" + pkg.Version
			out[id] = append(out[id], installedPkg{folder: folder, integrity: pkg.Integrity})
		}
	}
	return out
}

// installedFolder is the folder a node_modules package was read from, ""
// for packages that are not installed copies (links, workspaces).
func installedFolder(pkg *lockfile.Package) string {
	if _, skip := skipReasons[pkg.Source]; skip {
		return ""
	}
	if filepath.Base(pkg.Location.File) != "package.json" {
		return ""
	}
	return filepath.Dir(pkg.Location.File)
}

// matchInstalled picks the installed copy of a lockfile package: the
// same name@version, and the same integrity when both record one (a copy
// installed from other bytes is not this package).
func matchInstalled(cands []installedPkg, integrity string) string {
	want := normalIntegrity(integrity)
	for _, c := range cands {
		if got := normalIntegrity(c.integrity); want == "" || got == "" || got == want {
			return c.folder
		}
	}
	return ""
}

// normalIntegrity reduces an integrity string to its strongest hash, so
// that "sha512-A sha1-B" and "sha512-A" are the same package.
func normalIntegrity(s string) string {
	if s == "" {
		return ""
	}
	if i, err := npm.ParseIntegrity(s); err == nil {
		return i.String()
	}
	return strings.TrimSpace(s)
}

// reportIntegrity is the integrity to show in a report: the strongest hash
// in SRI form, or nothing when the recorded string does not parse.
func reportIntegrity(s string) string {
	if i, err := npm.ParseIntegrity(s); err == nil {
		return i.String()
	}
	return ""
}

// errorResult is the report entry of a project that could not be read.
func (p *project) errorResult() report.AnalyzeResult {
	return report.AnalyzeResult{Target: p.arg, Kind: string(p.kind), Status: "error", Error: p.meta.Error, Project: p.arg}
}

func (p *project) pathFinder() *lockfile.PathFinder {
	p.pfOnce.Do(func() { p.pf = p.graph.PathFinder() })
	return p.pf
}

// addPaths records, for every dependency that is not clean, the shortest
// dependency paths that brought it into its project.
func (a *analyzer) addPaths(jobs []analyzeJob, results []report.AnalyzeResult, max int) {
	for i, j := range jobs {
		r := &results[i]
		if j.dep == nil || (r.Report != nil && r.Verdict == analyze.Clean) {
			continue
		}
		for _, path := range j.dep.proj.pathFinder().PathsTo(j.dep.index, max) {
			clean := make([]string, len(path))
			for k, s := range path {
				clean[k] = rules.Sanitize(s, 300)
			}
			r.Paths = append(r.Paths, clean)
		}
	}
}
