package report

import (
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
)

// AnalyzeSchemaVersion versions the JSON document of 'vigil analyze'
// (docs/vigil-analyze.schema.json). 1.1 added started, duration_ms,
// summary and projects at the top level, and project, source, location,
// cached and paths on each report; every 1.0 field is unchanged.
const AnalyzeSchemaVersion = "1.1"

// Kinds of analyze entries: how the entry's target was named.
const (
	AnalyzeKindTarball  = "tarball"  // a .tgz file given on the command line
	AnalyzeKindFolder   = "folder"   // an unpacked package folder given on the command line
	AnalyzeKindRegistry = "registry" // name@version given on the command line
	// AnalyzeKindDependency is a package found in a project's lockfile or
	// node_modules tree; Project names the project.
	AnalyzeKindDependency = "dependency"
	// AnalyzeKindLockfile and AnalyzeKindNodeModules are projects that
	// could not be read at all: the entry carries the error.
	AnalyzeKindLockfile    = "lockfile"
	AnalyzeKindNodeModules = "node_modules"
)

// Sources: where an entry's bytes came from.
const (
	SourceFile        = "file"         // a tarball file named on the command line
	SourceFolder      = "folder"       // a package folder named on the command line
	SourceNodeModules = "node_modules" // the package's installed folder in the project
	SourceNPMCache    = "npm-cache"    // npm's content cache (~/.npm/_cacache), digest verified
	SourceRegistry    = "registry"     // downloaded, verified against the lockfile's or packument's integrity
	// SourceVerdictCache: nothing was read; the lockfile's integrity named
	// bytes already analysed by the same engine.
	SourceVerdictCache = "verdict-cache"
)

// AnalyzeRun is everything one 'vigil analyze' run produced: the model
// every analyze output format is written from.
type AnalyzeRun struct {
	Started  time.Time
	Duration time.Duration
	// Projects are the lockfiles and node_modules trees expanded into
	// dependencies, in command-line order.
	Projects []AnalyzeProject
	// Results hold one entry per target and per distinct dependency.
	Results []AnalyzeResult
}

// AnalyzeProject is one lockfile or node_modules tree given as a target.
type AnalyzeProject struct {
	// Path is the lockfile or node_modules folder as named.
	Path   string `json:"path"`
	Kind   string `json:"kind"` // AnalyzeKindLockfile or AnalyzeKindNodeModules
	Format string `json:"format,omitempty"`
	// Packages counts the distinct third-party packages analysed (one
	// entry each in reports); Installed says how many of them were read
	// from an installed folder.
	Packages  int `json:"packages"`
	Installed int `json:"installed"`
	// Skipped counts packages not analysed, by reason: "workspace", "link",
	// "file", "patch", "bundled" (analysed inside its parent's tarball).
	Skipped map[string]int `json:"skipped"`
	// Error is set when the project could not be read; its entry in
	// reports carries the same error.
	Error string `json:"error,omitempty"`
}

// AnalyzeResult is one entry of the report: the analysis (analyze.Report's
// fields, inlined) or the error that prevented it. Every string that came
// from a package or a lockfile is sanitised before it is stored here.
type AnalyzeResult struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Status string `json:"status"` // "analysed" or "error"
	Error  string `json:"error,omitempty"`
	*analyze.Report
	Fetch    *AnalyzeFetch `json:"fetch,omitempty"`
	Warnings []string      `json:"tarball_warnings,omitempty"`
	// NotLoaded lists files too large to load, which were not analysed.
	NotLoaded []string `json:"not_loaded,omitempty"`

	// Project is the lockfile or node_modules tree a dependency came from.
	Project string `json:"project,omitempty"`
	// Source says where the bytes came from (Source* constants) and
	// Location which folder, file or URL exactly.
	Source   string `json:"source,omitempty"`
	Location string `json:"location,omitempty"`
	// Cached: the verdict came from the verdict cache (the bytes, if read
	// at all, were not analysed again).
	Cached bool `json:"cached"`
	// Paths are dependency paths from the project to a flagged (not
	// clean) dependency, shortest first: importer first, package last.
	Paths [][]string `json:"paths,omitempty"`
	// Previous is set with --against-previous: the release this one was
	// compared with, and what the comparison added to the score (as
	// Reasons of the report).
	Previous *AnalyzePrevious `json:"previous,omitempty"`
}

// AnalyzePrevious records the comparison with the previous release of
// the line that --against-previous folded into the verdict.
type AnalyzePrevious struct {
	// Version is the previous release; empty when there is none.
	Version string `json:"version,omitempty"`
	// ScoreBefore is the score before folding; the report's Score is after.
	ScoreBefore int `json:"score_before"`
	// NewFindings counts findings new in this release.
	NewFindings int `json:"new_findings"`
	// Signals are the registry signals (publisher change, trust
	// downgrade, odd publish times), one line each.
	Signals []string `json:"signals,omitempty"`
	// Note explains why nothing was compared; Error why it failed.
	Note  string `json:"note,omitempty"`
	Error string `json:"error,omitempty"`
}

// AnalyzeFetch says where downloaded bytes came from and what vouches for
// them.
type AnalyzeFetch struct {
	Registry   string `json:"registry"`
	TarballURL string `json:"tarball_url"`
	Integrity  string `json:"integrity"`
	Verified   bool   `json:"verified"`
	Unlisted   bool   `json:"unlisted"`
	Note       string `json:"note"`
}

// Analysed reports whether the entry holds a verdict.
func (r *AnalyzeResult) Analysed() bool { return r.Report != nil }

// AnalyzeSummary totals a run.
type AnalyzeSummary struct {
	Reports    int `json:"reports"`
	Analysed   int `json:"analysed"`
	Clean      int `json:"clean"`
	Suspicious int `json:"suspicious"`
	Malicious  int `json:"malicious"`
	Errors     int `json:"errors"`
	CacheHits  int `json:"cache_hits"`
	Skipped    int `json:"skipped"`
	// Sources counts entries by where their bytes came from.
	Sources map[string]int `json:"sources"`
}

// Summarize totals the run's entries.
func Summarize(run *AnalyzeRun) AnalyzeSummary {
	s := AnalyzeSummary{Reports: len(run.Results), Sources: map[string]int{}}
	for i := range run.Results {
		r := &run.Results[i]
		if r.Cached {
			s.CacheHits++
		}
		if r.Source != "" {
			s.Sources[r.Source]++
		}
		if r.Report == nil {
			s.Errors++
			continue
		}
		s.Analysed++
		switch r.Verdict {
		case analyze.Malicious:
			s.Malicious++
		case analyze.Suspicious:
			s.Suspicious++
		default:
			s.Clean++
		}
	}
	for _, p := range run.Projects {
		for _, n := range p.Skipped {
			s.Skipped += n
		}
	}
	return s
}
