package report

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/scan"
)

// JSONSchemaVersion is the version of the JSON report's shape, documented
// in docs/json-schema.md and docs/vigil-scan.schema.json. Adding an
// optional field is a minor bump; renaming, removing or retyping one is a
// major bump.
const JSONSchemaVersion = "1.0"

// The json* types are the JSON report's wire format. They are separate
// from scan's types on purpose: scan can change its internals freely while
// this shape only changes with JSONSchemaVersion. Lists are always present
// (never null) so consumers need no null checks; optional scalars are
// omitted when unknown.
type jsonReport struct {
	SchemaVersion string       `json:"schema_version"`
	Tool          jsonTool     `json:"tool"`
	Started       *time.Time   `json:"started,omitempty"`
	DurationMS    int64        `json:"duration_ms"`
	Database      jsonDatabase `json:"database"`
	Summary       jsonSummary  `json:"summary"`
	Files         []jsonFile   `json:"files"`
	UnusedIgnores []string     `json:"unused_ignores"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type jsonDatabase struct {
	Source   string     `json:"source"`
	Records  int        `json:"records"`
	Built    *time.Time `json:"built,omitempty"`
	Embedded bool       `json:"embedded"`
}

type jsonSummary struct {
	Files           int            `json:"files"`
	FilesRead       int            `json:"files_read"`
	FilesFailed     int            `json:"files_failed"`
	Packages        int            `json:"packages"`
	Malware         int            `json:"malware"`
	Vulnerabilities int            `json:"vulnerabilities"`
	Hygiene         int            `json:"hygiene"`
	Ignored         int            `json:"ignored"`
	BySeverity      jsonBySeverity `json:"vulnerabilities_by_severity"`
}

type jsonBySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Unknown  int `json:"unknown"`
}

type jsonFile struct {
	Path         string        `json:"path"`
	Format       string        `json:"format,omitempty"`
	Status       string        `json:"status"`
	Error        string        `json:"error,omitempty"`
	PackageCount int           `json:"package_count"`
	Workspaces   []string      `json:"workspaces"`
	Findings     []jsonFinding `json:"findings"`
}

type jsonFinding struct {
	ID            string       `json:"id"`
	Aliases       []string     `json:"aliases"`
	Kind          string       `json:"kind"`
	Severity      string       `json:"severity"`
	Package       jsonPackage  `json:"package"`
	Summary       string       `json:"summary"`
	Details       string       `json:"details,omitempty"`
	Remediation   string       `json:"remediation,omitempty"`
	SafeVersion   string       `json:"safe_version,omitempty"`
	FixedVersions []string     `json:"fixed_versions"`
	Paths         [][]string   `json:"paths"`
	Location      jsonLocation `json:"location"`
	Dev           bool         `json:"dev"`
	References    []string     `json:"references"`
	Published     *time.Time   `json:"published,omitempty"`
	Modified      *time.Time   `json:"modified,omitempty"`
	Ignored       bool         `json:"ignored"`
	IgnoreReason  string       `json:"ignore_reason,omitempty"`
}

type jsonPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	PURL    string `json:"purl"`
}

type jsonLocation struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

type jsonHandler struct {
	w    io.Writer
	opts Options
}

func (h *jsonHandler) Write(ctx context.Context, r *scan.Result) error {
	if r == nil {
		return errors.New("report: nil result")
	}
	out, err := buildJSON(ctx, r, h.opts)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(h.w)
	enc.SetIndent("", "  ")
	// Summaries quote code ("<script>"); escaping it as \u003c helps no JSON
	// reader and hurts every human one.
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func buildJSON(ctx context.Context, r *scan.Result, opts Options) (*jsonReport, error) {
	c := countResult(r)
	out := &jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Tool:          jsonTool{Name: "vigil", Version: opts.Version},
		Started:       timePtr(r.Started),
		DurationMS:    r.Duration.Milliseconds(),
		Database: jsonDatabase{
			Source:   r.Database.Source,
			Records:  r.Database.Records,
			Built:    timePtr(r.Database.Built),
			Embedded: r.Database.Embedded,
		},
		Summary: jsonSummary{
			Files:           c.files,
			FilesRead:       c.read,
			FilesFailed:     c.failed,
			Packages:        c.packages,
			Malware:         c.malware,
			Vulnerabilities: c.vulns,
			Hygiene:         c.hygiene,
			Ignored:         c.ignored,
			BySeverity: jsonBySeverity{
				Critical: c.vulnsBySev[scan.SeverityCritical],
				High:     c.vulnsBySev[scan.SeverityHigh],
				Medium:   c.vulnsBySev[scan.SeverityMedium],
				Low:      c.vulnsBySev[scan.SeverityLow],
				Unknown:  c.vulnsBySev[scan.SeverityUnknown],
			},
		},
		Files:         make([]jsonFile, 0, len(r.Files)),
		UnusedIgnores: nonNil(r.UnusedIgnores),
	}
	for i := range r.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &r.Files[i]
		jf := jsonFile{
			Path:         f.Path,
			Format:       string(f.Format),
			Status:       string(f.Status),
			Error:        f.Error,
			PackageCount: f.PackageCount,
			Workspaces:   nonNil(f.Workspaces),
			Findings:     make([]jsonFinding, 0, len(f.Findings)),
		}
		switch {
		case f.Status == scan.StatusError && jf.Error == "":
			// The schema promises a reason with every failed file.
			jf.Error = "unknown error"
		case f.Status != scan.StatusError:
			jf.Error = ""
		}
		for j := range f.Findings {
			jf.Findings = append(jf.Findings, jsonFindingOf(f, &f.Findings[j]))
		}
		out.Files = append(out.Files, jf)
	}
	return out, nil
}

func jsonFindingOf(file *scan.FileResult, f *scan.Finding) jsonFinding {
	paths := make([][]string, 0, len(f.Paths))
	for _, p := range f.Paths {
		paths = append(paths, nonNil([]string(p)))
	}
	loc := jsonLocation{File: f.Location.File, Line: f.Location.Line, Column: f.Location.Column}
	if loc.File == "" {
		loc.File = file.Path
	}
	return jsonFinding{
		ID:            f.ID,
		Aliases:       nonNil(f.Aliases),
		Kind:          string(f.Kind),
		Severity:      string(normSeverity(f.Severity)),
		Package:       jsonPackage{Name: f.Package.Name, Version: f.Package.Version, PURL: npm.PURL(f.Package.Name, f.Package.Version)},
		Summary:       f.Summary,
		Details:       f.Details,
		Remediation:   f.Remediation,
		SafeVersion:   f.SafeVersion,
		FixedVersions: nonNil(f.FixedVersions),
		Paths:         paths,
		Location:      loc,
		Dev:           f.Dev,
		References:    nonNil(f.References),
		Published:     timePtr(f.Published),
		Modified:      timePtr(f.Modified),
		Ignored:       f.Ignored != "",
		IgnoreReason:  f.Ignored,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// timePtr drops unknown (zero) times and normalises known ones to UTC so the
// output does not depend on the machine's time zone.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
