package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/advisory"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/hygiene"
	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/npmlock"
	"github.com/vigil-sec/vigil/internal/lockfile/readers"
	"github.com/vigil-sec/vigil/internal/lockfile/yarnlock"
	"github.com/vigil-sec/vigil/internal/npm"
)

// Advisories is what a scan needs of an advisory database.
type Advisories = advisory.Matcher

// Options configure one scan.
type Options struct {
	// Paths are files or directories to scan; directories are walked.
	Paths []string
	// Lockfiles are files to read as given, whatever their folder holds.
	Lockfiles []string
	// IncludeNodeModules reads node_modules trees of projects that have no
	// lockfile while walking.
	IncludeNodeModules bool
	// MaxFileSize bounds each lockfile (0: readers.MaxFileSize).
	MaxFileSize int64
	// MaxPaths bounds the dependency paths kept per finding (0: 3).
	MaxPaths int
	DB       Advisories
	Config   *config.Config
	// Now is the time ignores are judged against (zero: time.Now()).
	Now    time.Time
	Logger *slog.Logger
}

// Run scans every target and returns the result. Files that fail to read
// are reported with StatusError and do not stop the others. It returns
// ErrNothingScanned (with the result) when nothing was found or no file
// yielded a package; the caller decides whether that is allowed.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Now.IsZero() {
		opts.Now = start
	}
	if opts.MaxPaths <= 0 {
		opts.MaxPaths = 3
	}
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	targets, err := discover(ctx, opts.Paths, opts.Lockfiles, opts.IncludeNodeModules)
	if err != nil {
		return nil, err
	}
	res := &Result{Started: start}
	if opts.DB != nil {
		info := opts.DB.Info()
		res.Database = DatabaseInfo{Source: info.Source, Records: info.Records, Built: info.Built, Embedded: info.Embedded}
	}
	res.Files = make([]FileResult, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res.Files[i] = readTarget(ctx, t, opts)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var graphs []*lockfile.Graph
	for i := range res.Files {
		graphs = append(graphs, res.Files[i].Graph)
	}
	for i := range res.Files {
		fr := &res.Files[i]
		if fr.Status != StatusOK {
			continue
		}
		if err := matchFile(fr, opts); err != nil {
			fr.Status, fr.Error = StatusError, err.Error()
		}
	}
	addConflicts(res, graphs)
	applyIgnores(res, opts.Config, opts.Now)
	for i := range res.Files {
		sortFindings(res.Files[i].Findings)
	}
	res.Duration = time.Since(start)

	scanned := 0
	for _, f := range res.Files {
		if f.Status == StatusOK {
			scanned++
		}
	}
	if scanned == 0 {
		return res, ErrNothingScanned
	}
	return res, nil
}

func readTarget(ctx context.Context, t target, opts Options) FileResult {
	fr := FileResult{Path: t.path}
	var g *lockfile.Graph
	var err error
	if t.nodeModules {
		g, err = readers.ReadNodeModules(ctx, t.path)
	} else {
		g, err = readers.ReadFile(ctx, t.path, opts.MaxFileSize)
	}
	if err != nil {
		fr.Status, fr.Error = StatusError, err.Error()
		var pe *lockfile.ParseError
		if errors.As(err, &pe) {
			fr.Error = pe.Error()
		}
		opts.Logger.Debug("read failed", "path", t.path, "err", err)
		return fr
	}
	// Two formats do not record the project's own dependencies; the
	// package.json files beside them do.
	switch g.Format {
	case lockfile.FormatYarnV1:
		if err := yarnlock.AttachManifests(g, projectManifests(t.path)); err != nil {
			opts.Logger.Warn("reading workspace manifests", "lockfile", t.path, "err", err)
		}
	case lockfile.FormatPackageLockV1, lockfile.FormatShrinkwrapV1:
		if root, ok := projectManifests(t.path)[""]; ok {
			if err := npmlock.AttachRootManifest(g, root); err != nil {
				opts.Logger.Warn("reading the root manifest", "lockfile", t.path, "err", err)
			}
		}
	}
	fr.Graph, fr.Format = g, g.Format
	fr.PackageCount = len(g.ThirdParty())
	for _, imp := range g.Importers {
		if imp.Path != "" && imp.Path != "." {
			fr.Workspaces = append(fr.Workspaces, imp.Path)
		}
	}
	fr.Status = StatusOK
	if fr.PackageCount == 0 {
		fr.Status = StatusEmpty
	}
	return fr
}

// instances groups a graph's package instances by name@version: findings
// are per name@version, with the paths of every instance.
type instances struct {
	pv      npm.PackageVersion
	indices []int
}

func groupInstances(g *lockfile.Graph) []instances {
	byPV := make(map[npm.PackageVersion]int, len(g.Packages))
	var out []instances
	for i := range g.Packages {
		p := &g.Packages[i]
		if p.Source == lockfile.SourceWorkspace || p.Source == lockfile.SourceLink {
			continue
		}
		if j, ok := byPV[p.PackageVersion]; ok {
			out[j].indices = append(out[j].indices, i)
			continue
		}
		byPV[p.PackageVersion] = len(out)
		out = append(out, instances{pv: p.PackageVersion, indices: []int{i}})
	}
	return out
}

func matchFile(fr *FileResult, opts Options) error {
	g := fr.Graph
	pf := g.PathFinder()
	// where fills the location, paths and dev flag shared by every finding
	// on one name@version.
	where := func(f *Finding, idx []int) {
		first := &g.Packages[idx[0]]
		f.Location = first.Location
		f.Dev = true
		for _, i := range idx {
			if !g.Packages[i].Dev {
				f.Dev = false
			}
			for _, p := range pf.PathsTo(i, opts.MaxPaths) {
				if len(f.Paths) >= opts.MaxPaths {
					break
				}
				f.Paths = append(f.Paths, p)
			}
		}
		if f.Location.File == "" {
			f.Location.File = g.File
		}
	}
	for _, in := range groupInstances(g) {
		if b, ok := opts.Config.Blocked(in.pv.Name, in.pv.Version); ok {
			f := Finding{
				ID:          "VGL-BLOCK",
				Kind:        KindMalware,
				Severity:    Severity(b.Severity),
				Package:     in.pv,
				Summary:     fmt.Sprintf("%s is on this project's blocklist: %s", in.pv, b.Reason),
				Details:     b.Reason,
				Remediation: fmt.Sprintf("remove %s or move to a version the blocklist in %s allows", in.pv, opts.Config.Path),
			}
			if b.Severity != "critical" {
				f.Kind = KindVulnerability
			}
			where(&f, in.indices)
			fr.Findings = append(fr.Findings, f)
		}
		if opts.DB == nil {
			continue
		}
		matches, err := opts.DB.Match(in.pv.Name, in.pv.Version)
		if err != nil {
			return fmt.Errorf("matching %s: %w", in.pv, err)
		}
		for _, m := range matches {
			f := findingFromMatch(in.pv, m)
			where(&f, in.indices)
			fr.Findings = append(fr.Findings, f)
		}
	}
	for _, is := range hygiene.Check(g, opts.Config.Registries) {
		p := &g.Packages[is.Package]
		f := Finding{
			ID:       is.Rule.ID,
			Kind:     KindHygiene,
			Severity: Severity(is.Rule.Severity),
			Package:  p.PackageVersion,
			Summary:  is.Message,
			Details:  is.Rule.Why,
		}
		where(&f, []int{is.Package})
		fr.Findings = append(fr.Findings, f)
	}
	return nil
}

func findingFromMatch(pv npm.PackageVersion, m advisory.Match) Finding {
	r := m.Record
	f := Finding{
		ID:            r.ID,
		Aliases:       r.Aliases,
		Kind:          KindVulnerability,
		Severity:      Severity(m.Severity),
		Package:       pv,
		Summary:       r.Summary,
		Details:       r.Details,
		FixedVersions: m.Fixed,
		Published:     r.Published,
		Modified:      r.Modified,
	}
	for _, ref := range r.References {
		f.References = append(f.References, ref.URL)
	}
	if f.Summary == "" {
		f.Summary = fmt.Sprintf("%s affects %s", r.ID, pv)
	}
	if m.Malicious {
		f.Kind, f.Severity = KindMalware, SeverityCritical
		f.SafeVersion = m.LastGood
		if m.LastGood != "" {
			f.Remediation = fmt.Sprintf("remove %s now: pin %s back to %s, the last version before the compromise (malware has no fixed version), reinstall from a clean cache, and rotate any secrets the install could reach", pv, pv.Name, m.LastGood)
		} else {
			f.Remediation = fmt.Sprintf("remove %s now: pin %s back to the last version published before the compromise (malware has no fixed version), reinstall from a clean cache, and rotate any secrets the install could reach", pv, pv.Name)
		}
		return f
	}
	if safe := lowestFixAbove(pv.Version, m.Fixed); safe != "" {
		f.SafeVersion = safe
		f.Remediation = fmt.Sprintf("upgrade %s to %s or later", pv.Name, safe)
	} else {
		f.Remediation = fmt.Sprintf("no fixed version is known for %s; consider removing or replacing it", pv)
	}
	return f
}

// lowestFixAbove picks the smallest fixed version above the current one:
// the least disruptive upgrade that leaves the affected range.
func lowestFixAbove(current string, fixed []string) string {
	cur, err := npm.ParseVersion(current)
	if err != nil {
		return ""
	}
	var best npm.Version
	bestStr := ""
	for _, s := range fixed {
		v, err := npm.ParseVersion(s)
		if err != nil || v.Compare(cur) <= 0 {
			continue
		}
		if bestStr == "" || v.Compare(best) < 0 {
			best, bestStr = v, s
		}
	}
	return bestStr
}

// addConflicts reports name@versions whose integrity differs across the
// scan, once, on the first file that holds a conflicting hash.
func addConflicts(res *Result, graphs []*lockfile.Graph) {
	for _, c := range hygiene.Conflicts(graphs) {
		var locs []string
		for _, l := range c.Locations {
			locs = append(locs, fmt.Sprintf("%s:%d", l.File, l.Line))
		}
		f := Finding{
			ID:       hygiene.IntegrityConflict.ID,
			Kind:     KindHygiene,
			Severity: Severity(hygiene.IntegrityConflict.Severity),
			Package:  c.Package,
			Summary:  fmt.Sprintf("%s is recorded with %d different integrity hashes (%s)", c.Package, len(c.Integrity), strings.Join(locs, ", ")),
			Details:  hygiene.IntegrityConflict.Why + " Hashes: " + strings.Join(c.Integrity, ", "),
			Location: c.Locations[0],
		}
		res.Files[c.Graph].Findings = append(res.Files[c.Graph].Findings, f)
	}
}

func applyIgnores(res *Result, cfg *config.Config, now time.Time) {
	used := make([]bool, len(cfg.Ignores))
	for i := range res.Files {
		for j := range res.Files[i].Findings {
			f := &res.Files[i].Findings[j]
			for k, ig := range cfg.Ignores {
				if !ig.Matches(f.ID, f.Aliases, f.Package.Name) {
					continue
				}
				used[k] = true
				if ig.Expired(now) {
					continue
				}
				f.Ignored = ig.Reason
				break
			}
		}
	}
	for k, ig := range cfg.Ignores {
		switch {
		case !used[k]:
			res.UnusedIgnores = append(res.UnusedIgnores, ig.String()+": matched no finding")
		case ig.Expired(now):
			res.UnusedIgnores = append(res.UnusedIgnores, ig.String()+": expired on "+ig.Until+" and no longer applies")
		}
	}
}

// kindOrder puts malware first: it is what a responder must act on now.
func kindOrder(k Kind) int {
	switch k {
	case KindMalware:
		return 0
	case KindVulnerability:
		return 1
	}
	return 2
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := kindOrder(a.Kind) - kindOrder(b.Kind); c != 0 {
			return c
		}
		if c := b.Severity.Rank() - a.Severity.Rank(); c != 0 {
			return c
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Package.Name, b.Package.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Package.Version, b.Package.Version)
	})
}

// Fails reports whether a finding reaches the --fail-on threshold (low,
// medium, high, critical, malware or none). Malware always fails unless the
// threshold is "none"; ignored findings never do. A vulnerability of unknown
// severity counts as medium: an advisory without a score is not harmless.
func (f Finding) Fails(threshold string) bool {
	if f.Ignored != "" || threshold == "none" {
		return false
	}
	if f.Kind == KindMalware {
		return true
	}
	limit := Severity(threshold).Rank()
	if limit == 0 { // "malware", or an unknown threshold
		return false
	}
	rank := f.Severity.Rank()
	if rank == 0 {
		rank = SeverityMedium.Rank()
	}
	return rank >= limit
}
