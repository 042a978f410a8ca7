package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/tarball"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

func (a *analyzer) dependencyJob(u depUnit) analyzeJob {
	return analyzeJob{dep: &u, run: func(ctx context.Context) report.AnalyzeResult { return a.analyzeDependency(ctx, &u) }}
}

// analyzeDependency finds a dependency's bytes — installed folder, npm's
// cache, the registry, in that order — and analyses them, or serves the
// verdict from the cache when the same bytes were analysed before.
func (a *analyzer) analyzeDependency(ctx context.Context, u *depUnit) report.AnalyzeResult {
	res := report.AnalyzeResult{
		Target:  rules.Sanitize(u.id(), 300),
		Kind:    report.AnalyzeKindDependency,
		Status:  "error",
		Project: u.proj.arg,
	}
	if err := npm.ValidateName(u.pkg.Name); err != nil {
		res.Error = "invalid package name: " + rules.Sanitize(err.Error(), 300)
		return res
	}
	if u.folder != "" {
		return a.fromFolder(ctx, res, u)
	}

	integ, integErr := npm.ParseIntegrity(u.pkg.Integrity)
	hasIntegrity := u.pkg.Integrity != "" && integErr == nil
	// A strong integrity names the bytes before they are read: a verdict
	// for them needs no reading at all. sha1 does not (collisions can be
	// made), so such packages are keyed by the SHA-512 of what is read.
	strong := hasIntegrity && integ.Algorithm != "sha1"
	if strong {
		if e, ok := a.cacheGet(ctx, integ.String()); ok {
			res.Source, res.Cached = report.SourceVerdictCache, true
			return fillFromCache(res, e, u, integ.String())
		}
	}

	var data []byte
	if hasIntegrity && a.npm.dir != "" {
		d, path, err := a.npm.read(integ, a.limits.MaxCompressed)
		switch {
		case err == nil:
			data, res.Source, res.Location = d, report.SourceNPMCache, path
		case errors.Is(err, fs.ErrNotExist):
		default:
			// A damaged cache entry is npm's problem, not the package's:
			// note it and fetch the bytes instead.
			a.e.logger.Warn("npm cache entry unusable", "package", res.Target, "err", err)
			res.Warnings = append(res.Warnings, "npm cache: "+rules.Sanitize(err.Error(), 300))
		}
	}
	var manifest []byte
	if data == nil {
		var err error
		data, manifest, err = a.fromRegistry(ctx, &res, u)
		if err != nil {
			res.Error = rules.Sanitize(err.Error(), 400)
			return res
		}
	}

	key := sriSHA512(data)
	if strong {
		key = integ.String()
	}
	identity := u.pkg.Integrity
	if identity == "" || !strong {
		identity = sriSHA512(data)
	}
	if e, ok := a.cacheGet(ctx, key); ok {
		res.Cached = true
		return fillFromCache(res, e, u, identity)
	}
	arc, err := tarball.Read(ctx, bytes.NewReader(data), a.limits)
	if err != nil {
		res.Error = "cannot read: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	return a.analyzeArchive(ctx, res, arc, key, u, identity, manifest)
}

// fromFolder analyses an installed package folder. Its nested
// node_modules holds other packages, analysed on their own, so it is left
// out. The verdict is cached under a digest of the files read: a folder
// edited after installation is a different package. The stat index
// remembers that digest for the folder's metadata (sizes, times, inodes),
// so that a folder whose metadata has not moved is not read again.
func (a *analyzer) fromFolder(ctx context.Context, res report.AnalyzeResult, u *depUnit) report.AnalyzeResult {
	res.Source, res.Location = report.SourceNodeModules, u.folder
	state := a.folderState(ctx, u.folder)
	indexed := ""
	if state != nil {
		if key, ok := a.cache.FolderKey(state); ok {
			if e, ok := a.cacheGet(ctx, key); ok {
				res.Cached = true
				return fillFromCache(res, e, u, u.pkg.Integrity)
			}
			indexed = key // the verdict was trimmed: read and analyse
		}
	}
	arc, err := readFolder(ctx, u.folder, a.limits)
	if err != nil {
		res.Error = "cannot read the installed folder: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	// What was read is what state describes only if nothing moved while
	// it was read.
	if state != nil && !verdictcache.RecheckFolder(ctx, state) {
		state = nil
	}
	withoutNested(arc)
	key := folderKey(arc)
	if key != indexed {
		if e, ok := a.cacheGet(ctx, key); ok {
			res.Cached = true
			a.recordFolder(ctx, state, key)
			return fillFromCache(res, e, u, u.pkg.Integrity)
		}
	}
	res = a.analyzeArchive(ctx, res, arc, key, u, u.pkg.Integrity, nil)
	if res.Report != nil {
		a.recordFolder(ctx, state, key)
	}
	return res
}

// readFolder reads an installed folder; tests count its calls.
var readFolder = tarball.ReadDir

// folderKeyVersion names folderKey's definition and what it is computed
// from (the nested node_modules left out), for the stat index: a stat
// entry recorded under another definition is not used.
const folderKeyVersion = "folder-sha256 v1, without nested node_modules"

// folderState fingerprints an installed folder's metadata for the stat
// index, or returns nil when there is no cache or the folder cannot be
// indexed here (the platform or filesystem has no trustworthy change
// times, the walk failed): it is then read and hashed.
func (a *analyzer) folderState(ctx context.Context, folder string) *verdictcache.FolderState {
	if a.cache == nil {
		return nil
	}
	salt := fmt.Sprintf("%s; limits %+v", folderKeyVersion, a.limits)
	s, err := verdictcache.StatFolder(ctx, folder, salt, a.limits.MaxEntries)
	if err != nil {
		a.e.logger.Debug("stat index: hashing the folder", "folder", folder, "err", err)
		return nil
	}
	return s
}

// recordFolder records key in the stat index as the digest of the folder
// in state (nil: nothing to record).
func (a *analyzer) recordFolder(ctx context.Context, state *verdictcache.FolderState, key string) {
	if state == nil || a.cache == nil {
		return
	}
	if err := a.cache.PutFolderKey(ctx, state, key); err != nil {
		a.e.logger.Warn("cannot write the verdict cache's stat index", "err", err)
	}
}

// fromRegistry downloads a dependency the project did not install and
// npm's cache does not hold. With an integrity, the tarball (at the
// lockfile's resolved URL, else the registry's conventional one) is
// verified against it; without one, the packument vouches for it.
func (a *analyzer) fromRegistry(ctx context.Context, res *report.AnalyzeResult, u *depUnit) (data, manifest []byte, err error) {
	if u.pkg.Source == lockfile.SourceGit {
		return nil, nil, errors.New("a git dependency that is not installed: Vigil does not clone repositories (install the project and analyse node_modules)")
	}
	if a.client == nil {
		what := "not in npm's cache"
		if u.pkg.Integrity == "" {
			what = "no integrity to look up in npm's cache"
		}
		hint := ""
		if u.pkg.Optional {
			hint = " (an optional dependency: npm skips those not meant for this platform)"
		}
		return nil, nil, fmt.Errorf("not installed and %s; --offline forbids the registry%s", what, hint)
	}
	res.Source = report.SourceRegistry
	if u.pkg.Integrity == "" {
		rel, err := a.client.FetchVersion(ctx, u.pkg.Name, u.pkg.Version)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot fetch: %w", err)
		}
		res.Fetch, res.Location = releaseFetch(a.client, rel), rel.TarballURL
		return rel.Tarball, registryManifest(rel), nil
	}
	u2 := tarballURL(a.client.BaseURL(), &u.pkg)
	data, err = a.client.Tarball(ctx, u2, u.pkg.Integrity)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot fetch: %w", err)
	}
	res.Location = u2
	res.Fetch = &report.AnalyzeFetch{
		Registry: a.client.BaseURL(), TarballURL: u2, Integrity: reportIntegrity(u.pkg.Integrity), Verified: true,
		Note: "verified against the lockfile's integrity",
	}
	return data, nil, nil
}

// tarballURL is where a lockfile package's tarball is: its resolved URL
// when that is an http(s) URL, else the registry's conventional
// <registry>/<name>/-/<basename>-<version>.tgz.
func tarballURL(base string, pkg *lockfile.Package) string {
	if r := pkg.Resolved; strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://") {
		return r
	}
	name, basename := url.PathEscape(pkg.Name), pkg.Name
	if scope := npm.Scope(pkg.Name); scope != "" {
		basename = pkg.Name[len(scope)+1:]
		name = url.PathEscape(scope) + "/" + url.PathEscape(basename)
	}
	return strings.TrimSuffix(base, "/") + "/" + name + "/-/" + url.PathEscape(basename+"-"+pkg.Version+".tgz")
}

// analyzeArchive runs the analysis and caches the verdict under key.
func (a *analyzer) analyzeArchive(ctx context.Context, res report.AnalyzeResult, arc *tarball.Archive, key string, u *depUnit, identity string, manifest []byte) report.AnalyzeResult {
	warnings, notLoaded := archiveNotes(arc)
	res.Warnings, res.NotLoaded = append(res.Warnings, warnings...), notLoaded
	pkg := analyze.FromArchive(arc, u.pkg.Name, u.pkg.Version, reportIntegrity(identity))
	pkg.RegistryManifest = manifest
	rep, err := analyze.Analyze(ctx, pkg, analyze.Options{})
	if err != nil {
		res.Error = "cannot analyse: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	res.Report, res.Status = rep, "analysed"
	if a.cache != nil {
		if err := a.cache.Put(ctx, key, &verdictcache.Entry{Report: rep, Warnings: warnings, NotLoaded: notLoaded}); err != nil {
			a.e.logger.Warn("cannot write the verdict cache", "err", err)
		}
	}
	return res
}

func (a *analyzer) cacheGet(ctx context.Context, key string) (*verdictcache.Entry, bool) {
	if a.cache == nil {
		return nil, false
	}
	return a.cache.Get(ctx, key)
}

// fillFromCache completes res from a cached verdict. The cached report
// may have been made under another name for the same bytes (an npm:
// alias), so the identity is this package's.
func fillFromCache(res report.AnalyzeResult, e *verdictcache.Entry, u *depUnit, identity string) report.AnalyzeResult {
	rep := *e.Report
	rep.Package, rep.Version, rep.Integrity = u.pkg.Name, u.pkg.Version, reportIntegrity(identity)
	res.Report, res.Status = &rep, "analysed"
	res.Warnings = append(res.Warnings, e.Warnings...)
	res.NotLoaded = e.NotLoaded
	return res
}

// withoutNested drops the package folder's own node_modules: installed
// dependencies (bundled ones included) are packages of their own, each
// analysed from its folder.
func withoutNested(arc *tarball.Archive) {
	nested := func(p string) bool { return p == "node_modules" || strings.HasPrefix(p, "node_modules/") }
	files := arc.Files[:0]
	for _, f := range arc.Files {
		if !nested(f.Path) {
			files = append(files, f)
		}
	}
	arc.Files = files
	skipped := arc.Skipped[:0]
	for _, s := range arc.Skipped {
		if !nested(s.Path) {
			skipped = append(skipped, s)
		}
	}
	arc.Skipped = skipped
	warnings := arc.Warnings[:0]
	for _, w := range arc.Warnings {
		if !nested(w.Path) {
			warnings = append(warnings, w)
		}
	}
	arc.Warnings = warnings
}

// folderKey is the verdict-cache key of a folder's contents: a SHA-256 of
// every file's path, mode and bytes and of every entry not loaded (links
// and their targets, files too large to load with their first bytes).
func folderKey(arc *tarball.Archive) string {
	h := sha256.New()
	for _, f := range arc.Files {
		fmt.Fprintf(h, "file %q %o %d\n", f.Path, f.Mode, len(f.Data))
		h.Write(f.Data)
	}
	for _, s := range arc.Skipped {
		fmt.Fprintf(h, "skipped %q %s %q %d %t %x\n", s.Path, s.Reason, s.Linkname, s.Size, s.Escapes, s.Head)
	}
	return "folder-sha256-" + hex.EncodeToString(h.Sum(nil))
}
