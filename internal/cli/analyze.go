package cli

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/tarball"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

// analyzeFailOnLevels are the accepted --fail-on values of analyze, least
// to most permissive.
var analyzeFailOnLevels = []string{"clean", "suspicious", "malicious", "none"}

type analyzeFlags struct {
	format   string
	output   string
	failOn   string
	registry string
	jobs     int
	offline  bool
	noCache  bool
	cacheDir string
	npmCache string
	deps     bool
	quiet    bool
	maxPaths int
	// againstPrevious folds the diff with the previous release of the
	// line into the verdict of name@version targets.
	againstPrevious bool
}

func newAnalyzeCmd(e *env) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze TARGET...",
		Short: "Decide from its contents alone whether a package version — or every package of a project — is malicious",
		Long: `Analyze reads each TARGET and reports a verdict (clean, suspicious, malicious) with a score, every
finding (rule, severity, file:line:col, a sanitised evidence excerpt) and the reasons that make up the
score. Package code is never executed, required or installed: tarballs are read in memory, within
limits. The rules are described in docs/detection.md.

A TARGET is one package:
  - a package tarball (.tgz);
  - an unpacked package folder: a folder with a package.json and no node_modules folder, or any folder
    inside a node_modules folder (an installed package, even one with nested dependencies);
  - name@version, fetched from --registry (default: $VIGIL_REGISTRY, else ` + registry.DefaultURL + `) and
    verified against the packument's dist.integrity. A version the packument no longer lists (unpublished,
    or removed as malware) is fetched from the tarball's conventional URL instead; the report then says
    that nothing vouches for those bytes.
or a whole project, whose every third-party package is analysed (workspace, link, file: and patch
packages are the project's own and skipped; name@version+integrity is analysed once):
  - a lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock) or SBOM;
  - a node_modules folder, or a project folder that holds one (or any folder with --deps): every
    installed package.

A project's packages are read from, in order: the installed folder (node_modules, beside the lockfile),
npm's content cache (--npm-cache, read-only, digest verified), the registry (the lockfile's resolved URL
or the conventional one, verified against the lockfile's integrity; --offline forbids it). Verdicts are
kept in a cache keyed by the bytes' integrity (or a digest of an installed folder) and the analysis
engine, so a re-run only analyses what changed (--no-cache, --cache-dir, $VIGIL_CACHE_DIR).

A target or package that cannot be read (a hostile tarball hitting a limit, a registry error, a package
neither installed nor cached with --offline) is reported as an error and the others still run. It must
not pass silently: it counts as reaching "suspicious" for --fail-on, and when nothing at all could be
analysed the command exits 127 (unless --fail-on was already reached).

Exit codes: 0 nothing reached --fail-on, 1 a verdict reached --fail-on, 2 usage error,
127 unexpected error or nothing could be analysed, 128 a project without third-party packages.`,
		Example: `  vigil analyze debug@4.4.2
  vigil analyze ./pkg.tgz --format json
  vigil analyze ./node_modules/left-pad --fail-on suspicious
  vigil analyze ./package-lock.json --offline --format sarif --output analyze.sarif
  vigil analyze . --fail-on suspicious`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(report.AnalyzeFormats(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.StringVar(&f.failOn, "fail-on", "malicious", "exit 1 when a verdict reaches: "+strings.Join(analyzeFailOnLevels, ", "))
	fl.StringVar(&f.registry, "registry", "", "registry for name@version targets and missing packages (default: $VIGIL_REGISTRY, else "+registry.DefaultURL+")")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.GOMAXPROCS(0), "packages analysed at once")
	fl.BoolVar(&f.offline, "offline", false, "never use the network: packages must be installed or in npm's cache")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the verdict cache")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "verdict cache folder (default: $VIGIL_CACHE_DIR, else the user cache folder, e.g. ~/.cache/vigil/analyze)")
	fl.StringVar(&f.npmCache, "npm-cache", "", "npm's content cache to read tarballs from (default: $npm_config_cache/_cacache, else ~/.npm/_cacache)")
	fl.BoolVar(&f.deps, "deps", false, "treat folder targets as projects: analyse every package installed in their node_modules")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar and no per-package messages on stderr")
	fl.IntVar(&f.maxPaths, "max-paths", 3, "dependency paths reported per flagged package")
	fl.BoolVar(&f.againstPrevious, "against-previous", false, "for name@version targets: compare with the previous release of the line and weigh new behaviour more (see docs/diff.md)")
	return cmd
}

func runAnalyze(ctx context.Context, e *env, f analyzeFlags, args []string) error {
	started := time.Now()
	if !contains(analyzeFailOnLevels, f.failOn) {
		return usagef("--fail-on %q: want one of %s", f.failOn, strings.Join(analyzeFailOnLevels, ", "))
	}
	if !contains(report.AnalyzeFormats(), f.format) {
		return usagef("--format %q: want %s", f.format, strings.Join(report.AnalyzeFormats(), ", "))
	}
	if f.jobs < 1 {
		return usagef("--jobs %d: want at least 1", f.jobs)
	}
	if f.maxPaths < 1 {
		return usagef("--max-paths %d: want at least 1", f.maxPaths)
	}
	targets := make([]analyzeTarget, 0, len(args))
	for _, a := range args {
		t, err := classifyTarget(a, f.deps)
		if err != nil {
			return err
		}
		if t.kind == kindRegistry && f.offline {
			return usagef("%s: a registry target, but --offline forbids the network", a)
		}
		targets = append(targets, t)
	}
	a, err := newAnalyzer(e, f, targets)
	if err != nil {
		return err
	}

	run := &report.AnalyzeRun{Started: started}
	var jobs []analyzeJob
	for _, t := range targets {
		if !t.kind.isProject() {
			jobs = append(jobs, a.directJob(t))
			continue
		}
		p, units, err := a.expandProject(ctx, t)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		run.Projects = append(run.Projects, p.meta)
		if err != nil {
			jobs = append(jobs, failedJob(p.errorResult()))
			continue
		}
		for _, u := range units {
			jobs = append(jobs, a.dependencyJob(u))
		}
	}
	if len(jobs) == 0 {
		return fmt.Errorf("%w: no third-party package in %s", errNothing, strings.Join(args, ", "))
	}

	prog := newProgress(e.stderr, !f.quiet && len(jobs) > 1 && stderrIsTerminal(e.stderr), len(jobs))
	run.Results = runPool(ctx, jobs, f.jobs, prog)
	prog.finish()
	if err := ctx.Err(); err != nil {
		return err
	}
	a.addPaths(jobs, run.Results, f.maxPaths)
	a.closeCache(ctx)
	run.Duration = time.Since(started)

	analysed, failed := 0, 0
	for i := range run.Results {
		if run.Results[i].Report == nil {
			failed++
			if !f.quiet && failed <= maxErrorLines {
				fmt.Fprintf(e.stderr, "vigil: %s: %s\n", rules.Sanitize(run.Results[i].Target, 200), run.Results[i].Error)
			}
		} else {
			analysed++
		}
	}
	if !f.quiet && failed > maxErrorLines {
		fmt.Fprintf(e.stderr, "vigil: … and %d more that could not be analysed (all are in the report)\n", failed-maxErrorLines)
	}

	out, closeOut, err := openOutput(e, f.output)
	if err != nil {
		return err
	}
	if err := report.WriteAnalyze(f.format, out, run, report.Options{Version: Version, MaxPaths: f.maxPaths}); err != nil {
		closeOut()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}

	for i := range run.Results {
		if reachesFailOn(&run.Results[i], f.failOn) {
			return errFindings
		}
	}
	if analysed == 0 {
		return fmt.Errorf("no target could be analysed (%d unreadable)", failed)
	}
	if failed > 0 && !f.quiet {
		fmt.Fprintf(e.stderr, "vigil: %d of %d could not be analysed (counted as suspicious; --fail-on %s not reached)\n", failed, len(run.Results), f.failOn)
	}
	return nil
}

// maxErrorLines caps the per-package error lines on stderr: a project
// analysed offline with an empty npm cache would otherwise print thousands.
const maxErrorLines = 20

// analyzer holds what every job of one run shares.
type analyzer struct {
	e       *env
	f       analyzeFlags
	client  *registry.Client // nil with --offline, or when nothing needs it
	cache   *verdictcache.Cache
	npm     npmCache
	limits  tarball.Limits
	engine  string
	offline bool
}

func newAnalyzer(e *env, f analyzeFlags, targets []analyzeTarget) (*analyzer, error) {
	a := &analyzer{e: e, f: f, limits: tarball.DefaultLimits(), offline: f.offline}
	needRegistry, project := false, false
	for _, t := range targets {
		needRegistry = needRegistry || t.kind == kindRegistry
		project = project || t.kind.isProject()
	}
	if !f.offline && (needRegistry || project) {
		base := f.registry
		if base == "" {
			base = e.getenv("VIGIL_REGISTRY")
		}
		if base == "" {
			base = registry.DefaultURL
		}
		c, err := registry.New(base, registry.Options{UserAgent: "vigil/" + Version})
		if err != nil {
			return nil, usagef("--registry %s: %v", base, err)
		}
		a.client = c
	}
	if !project {
		return a, nil
	}
	a.npm = npmCache{dir: npmCacheDir(e, f.npmCache)}
	if f.noCache {
		return a, nil
	}
	dir := f.cacheDir
	if dir == "" {
		d, err := verdictcache.DefaultDir(e.getenv)
		if err != nil {
			return nil, err
		}
		dir = d
	}
	a.engine = verdictcache.Fingerprint(rules.All(), Version)
	c, err := verdictcache.Open(dir, a.engine, verdictcache.Options{Logger: e.logger})
	if err != nil {
		// A cache that cannot be created costs time, not correctness.
		e.logger.Warn("verdict cache unavailable; analysing everything", "dir", dir, "err", err)
		return a, nil
	}
	a.cache = c
	return a, nil
}

// closeCache bounds the cache's size once the run's writes are done.
func (a *analyzer) closeCache(ctx context.Context) {
	if a.cache == nil {
		return
	}
	if _, err := a.cache.Trim(ctx); err != nil {
		a.e.logger.Warn("trimming the verdict cache", "err", err)
	}
	s := a.cache.Stats()
	a.e.logger.Debug("verdict cache", "dir", a.cache.Dir(), "engine", a.engine, "hits", s.Hits, "misses", s.Misses, "corrupt", s.Corrupt, "writes", s.Writes)
}

// verdictRank orders verdicts for --fail-on; an unreadable target ranks
// as suspicious.
func verdictRank(r *report.AnalyzeResult) int {
	if r.Report == nil {
		return 1
	}
	switch r.Verdict {
	case analyze.Malicious:
		return 2
	case analyze.Suspicious:
		return 1
	}
	return 0
}

func reachesFailOn(r *report.AnalyzeResult, failOn string) bool {
	switch failOn {
	case "clean":
		return true
	case "suspicious":
		return verdictRank(r) >= 1
	case "malicious":
		return verdictRank(r) >= 2
	}
	return false
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
