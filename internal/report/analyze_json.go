package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// AnalyzeFormats lists the formats WriteAnalyze accepts.
func AnalyzeFormats() []string { return []string{"table", "json", "sarif"} }

// WriteAnalyze writes run in format ("table", "json" or "sarif") to w.
func WriteAnalyze(format string, w io.Writer, run *AnalyzeRun, opts Options) error {
	if run == nil {
		return errors.New("report: nil analyze run")
	}
	switch format {
	case "table":
		return writeAnalyzeTable(w, run, opts)
	case "json":
		return writeAnalyzeJSON(w, run, opts)
	case "sarif":
		return writeAnalyzeSARIF(w, run, opts)
	}
	return fmt.Errorf("%w %q for analyze", ErrUnknownFormat, format)
}

// analyzeDoc is the JSON document (docs/vigil-analyze.schema.json).
type analyzeDoc struct {
	SchemaVersion string           `json:"schema_version"`
	Tool          string           `json:"tool"`
	Started       string           `json:"started,omitempty"`
	DurationMS    int64            `json:"duration_ms"`
	Summary       AnalyzeSummary   `json:"summary"`
	Projects      []AnalyzeProject `json:"projects"`
	Reports       []AnalyzeResult  `json:"reports"`
}

func writeAnalyzeJSON(w io.Writer, run *AnalyzeRun, opts Options) error {
	doc := analyzeDoc{
		SchemaVersion: AnalyzeSchemaVersion,
		Tool:          "vigil",
		DurationMS:    run.Duration.Milliseconds(),
		Summary:       Summarize(run),
		Projects:      make([]AnalyzeProject, 0, len(run.Projects)),
		Reports:       run.Results,
	}
	if opts.Version != "" {
		doc.Tool += " " + opts.Version
	}
	if !run.Started.IsZero() {
		doc.Started = run.Started.UTC().Format(time.RFC3339Nano)
	}
	for _, p := range run.Projects {
		if p.Skipped == nil {
			p.Skipped = map[string]int{}
		}
		doc.Projects = append(doc.Projects, p)
	}
	if doc.Reports == nil {
		doc.Reports = []AnalyzeResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
