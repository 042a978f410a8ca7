// Package scan runs `vigil scan`: it finds lockfiles, reads them into
// graphs, matches every package against advisory records and hygiene rules,
// applies the project's config, and yields one Result for the report
// handlers.
package scan

import (
	"time"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// Kind separates the three families of findings; reports show malware apart
// from ordinary vulnerabilities.
type Kind string

const (
	KindMalware       Kind = "malware"
	KindVulnerability Kind = "vulnerability"
	KindHygiene       Kind = "hygiene"
)

// Severity is ordered: compare with Rank.
type Severity string

const (
	SeverityUnknown  Severity = "unknown"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: unknown < low < medium < high < critical.
func (s Severity) Rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// Finding is one problem with one package of one lockfile.
type Finding struct {
	// ID is the advisory id (MAL-2025-46974, GHSA-…) or hygiene rule id
	// (VGL-H001 …).
	ID       string
	Aliases  []string
	Kind     Kind
	Severity Severity
	Package  npm.PackageVersion
	Summary  string
	Details  string
	// Remediation says what to do, e.g. "pin debug to 4.4.1, the last
	// version before the compromise" or "upgrade to 4.17.21".
	Remediation string
	// SafeVersion is the version to pin or upgrade to, when one is known.
	SafeVersion string
	// FixedVersions are the versions the advisory says fix it.
	FixedVersions []string
	// Paths are dependency paths from an importer to the package.
	Paths    []lockfile.Path
	Location lockfile.Location
	Dev      bool
	// References are URLs from the advisory.
	References []string
	Published  time.Time
	Modified   time.Time
	// Ignored carries the reason when vigil.yaml ignores this finding; ignored
	// findings are reported but never fail the scan.
	Ignored string
}

// FileStatus says how reading one lockfile went.
type FileStatus string

const (
	StatusOK    FileStatus = "ok"
	StatusError FileStatus = "error" // unreadable or malformed; see Error
	StatusEmpty FileStatus = "empty" // read, but no packages
)

// FileResult is what one lockfile, tree or SBOM yielded.
type FileResult struct {
	Path         string
	Format       lockfile.Format
	Status       FileStatus
	Error        string
	PackageCount int // distinct third-party name@version
	Workspaces   []string
	Findings     []Finding
	// Graph is the parsed graph; reports that need more than findings (the
	// SBOM writer) read it. Nil when Status is StatusError.
	Graph *lockfile.Graph `json:"-"`
}

// Result is the whole outcome of one scan.
type Result struct {
	Started  time.Time
	Duration time.Duration
	// Database describes the advisory data used.
	Database DatabaseInfo
	Files    []FileResult
	// UnusedIgnores lists vigil.yaml ignores that matched nothing.
	UnusedIgnores []string
}

// DatabaseInfo describes the advisory records a scan matched against.
type DatabaseInfo struct {
	Source   string // "embedded snapshot" or the index folder
	Records  int
	Built    time.Time
	Embedded bool
}
