package report

import (
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/npm"
)

// SARIF for 'vigil analyze': one run whose rules are Vigil's analysis
// rules (rules.All()) and whose results are the findings of every analysed
// package.
//
// Locations name a file inside a package, not a file of the repository:
// the artifact URI is the relative reference <name>@<version>/<path in
// the package> (for example @scope/pkg@1.2.3/lib/index.js), percent-encoded
// as URIs require, with uriBaseId PACKAGES (described in the run's
// originalUriBaseIds); the line and column of a finding are the region.
// A finding about the package as a whole has the URI <name>@<version>.
// docs/json-schema.md describes the scheme.
const (
	analyzeURIBase = "PACKAGES"
	detectionDoc   = infoURI + "/blob/main/docs/detection.md"
)

type analyzeSarifLog struct {
	Schema  string            `json:"$schema"`
	Version string            `json:"version"`
	Runs    []analyzeSarifRun `json:"runs"`
}

type analyzeSarifRun struct {
	Tool               analyzeSarifTool               `json:"tool"`
	OriginalURIBaseIDs map[string]analyzeSarifURIBase `json:"originalUriBaseIds"`
	Invocations        []sarifInvocation              `json:"invocations"`
	Results            []analyzeSarifResult           `json:"results"`
	Properties         analyzeSarifRunProps           `json:"properties"`
}

type analyzeSarifURIBase struct {
	Description sarifText `json:"description"`
}

type analyzeSarifRunProps struct {
	Summary AnalyzeSummary `json:"summary"`
	// CleanPackagesOmitted counts the clean packages that had findings,
	// which are not reported as results (see buildAnalyzeSARIF).
	CleanPackagesOmitted int `json:"cleanPackagesOmitted"`
}

type analyzeSarifTool struct {
	Driver analyzeSarifDriver `json:"driver"`
}

type analyzeSarifDriver struct {
	Name           string             `json:"name"`
	Version        string             `json:"version,omitempty"`
	InformationURI string             `json:"informationUri"`
	Rules          []analyzeSarifRule `json:"rules"`
}

type analyzeSarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration sarifRuleLevel `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type analyzeSarifResult struct {
	RuleID              string                 `json:"ruleId"`
	RuleIndex           int                    `json:"ruleIndex"`
	Level               string                 `json:"level"`
	Message             sarifText              `json:"message"`
	Locations           []analyzeSarifLocation `json:"locations"`
	PartialFingerprints map[string]string      `json:"partialFingerprints"`
	Properties          analyzeSarifResultProp `json:"properties"`
}

type analyzeSarifLocation struct {
	PhysicalLocation analyzeSarifPhysical `json:"physicalLocation"`
}

type analyzeSarifPhysical struct {
	ArtifactLocation analyzeSarifArtifact `json:"artifactLocation"`
	Region           *analyzeSarifRegion  `json:"region,omitempty"`
}

type analyzeSarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type analyzeSarifRegion struct {
	StartLine   int        `json:"startLine"`
	StartColumn int        `json:"startColumn,omitempty"`
	Snippet     *sarifText `json:"snippet,omitempty"`
}

type analyzeSarifResultProp struct {
	Verdict   string     `json:"verdict"`
	Score     int        `json:"score"`
	Severity  string     `json:"severity"`
	Category  string     `json:"category"`
	Package   string     `json:"package"`
	Version   string     `json:"version"`
	PURL      string     `json:"purl,omitempty"`
	Integrity string     `json:"integrity,omitempty"`
	Source    string     `json:"source,omitempty"`
	Project   string     `json:"project,omitempty"`
	Paths     [][]string `json:"paths,omitempty"`
}

func writeAnalyzeSARIF(w io.Writer, run *AnalyzeRun, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(buildAnalyzeSARIF(run, opts))
}

func buildAnalyzeSARIF(run *AnalyzeRun, opts Options) *analyzeSarifLog {
	sr, index := analyzeSarifRules(run)
	out := analyzeSarifRun{
		Tool: analyzeSarifTool{Driver: analyzeSarifDriver{
			Name: "vigil", Version: opts.Version, InformationURI: infoURI, Rules: sr,
		}},
		OriginalURIBaseIDs: map[string]analyzeSarifURIBase{analyzeURIBase: {Description: sarifText{
			Text: "npm package contents: <name>@<version>/<path inside the package>. The files are in the package's tarball, not in this repository.",
		}}},
		Results:    []analyzeSarifResult{},
		Properties: analyzeSarifRunProps{Summary: Summarize(run)},
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	if !run.Started.IsZero() {
		inv.StartTimeUTC = run.Started.UTC().Format(time.RFC3339Nano)
		inv.EndTimeUTC = run.Started.Add(run.Duration).UTC().Format(time.RFC3339Nano)
	}
	for i := range run.Results {
		r := &run.Results[i]
		if r.Report == nil {
			// An unreadable package makes the run partial: say so where a
			// code-scanning service shows tool health, so that "no alerts"
			// is not read as "clean".
			inv.ExecutionSuccessful = false
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:   "error",
				Message: sarifText{Text: rules.Sanitize(r.Target, 300) + ": " + r.Error + " (counts as suspicious)"},
			})
			continue
		}
		if r.Verdict == analyze.Clean {
			// A clean package's low findings (a polyfilled fetch, a
			// build script) are not alerts: over a project's thousands
			// of dependencies they would bury the ones that matter. The
			// JSON report keeps them.
			if len(r.Findings) > 0 {
				out.Properties.CleanPackagesOmitted++
			}
			continue
		}
		for j := range r.Findings {
			out.Results = append(out.Results, analyzeSarifResultOf(r, &r.Findings[j], index[r.Findings[j].Rule]))
		}
	}
	out.Invocations = []sarifInvocation{inv}
	return &analyzeSarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []analyzeSarifRun{out}}
}

// analyzeSarifRules lists every rule of the engine, in report order, so a
// dashboard knows the rules that did not fire too; a finding of a rule the
// engine does not list (none today) gets an entry of its own.
func analyzeSarifRules(run *AnalyzeRun) ([]analyzeSarifRule, map[string]int) {
	var out []analyzeSarifRule
	index := map[string]int{}
	for _, r := range rules.All() {
		index[r.ID] = len(out)
		out = append(out, analyzeSarifRuleOf(r))
	}
	for i := range run.Results {
		if run.Results[i].Report == nil {
			continue
		}
		for _, f := range run.Results[i].Findings {
			if _, ok := index[f.Rule]; !ok {
				index[f.Rule] = len(out)
				out = append(out, analyzeSarifRuleOf(&rules.Rule{ID: f.Rule, Name: f.Name, Severity: f.Severity, Category: f.Category, Summary: f.Name}))
			}
		}
	}
	return out, index
}

func analyzeSarifRuleOf(r *rules.Rule) analyzeSarifRule {
	short := oneLine(r.Summary)
	if short == "" {
		short = r.Name
	}
	full := oneLine(r.Why)
	if full == "" {
		full = short
	}
	var help strings.Builder
	help.WriteString(short)
	if why := oneLine(r.Why); why != "" {
		help.WriteString("\n\nWhy it matters: " + why)
	}
	if fp := oneLine(r.FalsePositives); fp != "" {
		help.WriteString("\n\nKnown false positives: " + fp)
	}
	tags := []string{"security", "npm", "supply-chain", "malware"}
	if r.Category != "" {
		tags = append(tags, string(r.Category))
	}
	return analyzeSarifRule{
		ID:                   r.ID,
		Name:                 r.Name,
		ShortDescription:     sarifText{Text: short},
		FullDescription:      sarifText{Text: full},
		Help:                 sarifText{Text: help.String()},
		HelpURI:              detectionDoc + "#" + strings.ToLower(r.ID+"-"+r.Name),
		DefaultConfiguration: sarifRuleLevel{Level: analyzeSarifLevel(r.Severity)},
		Properties:           sarifRuleProps{SecuritySeverity: analyzeSecuritySeverity(r.Severity), Tags: tags},
	}
}

// analyzeSarifLevel maps a finding's severity onto SARIF's levels.
func analyzeSarifLevel(s rules.Severity) string {
	switch s {
	case rules.Critical, rules.High:
		return "error"
	case rules.Medium:
		return "warning"
	}
	return "note"
}

// analyzeSecuritySeverity places each severity in the middle of GitHub's
// band for it; info findings carry none.
func analyzeSecuritySeverity(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "9.5"
	case rules.High:
		return "8.0"
	case rules.Medium:
		return "5.5"
	case rules.Low:
		return "3.0"
	}
	return ""
}

func analyzeSarifResultOf(r *AnalyzeResult, f *analyze.Finding, ruleIndex int) analyzeSarifResult {
	id := r.Package + "@" + r.Version
	loc := analyzeSarifLocation{PhysicalLocation: analyzeSarifPhysical{
		ArtifactLocation: analyzeSarifArtifact{URI: PackageFileURI(r.Package, r.Version, f.File), URIBaseID: analyzeURIBase},
	}}
	if f.Line > 0 {
		reg := &analyzeSarifRegion{StartLine: f.Line}
		if f.Col > 0 {
			reg.StartColumn = f.Col
		}
		if f.Evidence != "" {
			reg.Snippet = &sarifText{Text: rules.Sanitize(f.Evidence, 200)}
		}
		loc.PhysicalLocation.Region = reg
	}
	msg := rules.Sanitize(id, 280) + ": " + rules.Sanitize(f.Message, 400)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	msg += " Package verdict: " + string(r.Verdict) + "."
	res := analyzeSarifResult{
		RuleID:    f.Rule,
		RuleIndex: ruleIndex,
		Level:     analyzeSarifLevel(f.Severity),
		Message:   sarifText{Text: msg},
		Locations: []analyzeSarifLocation{loc},
		// A package version's contents never change, so the position is
		// part of the identity of a finding.
		PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f.Rule, id, f.File, strconv.Itoa(f.Line), strconv.Itoa(f.Col))},
		Properties: analyzeSarifResultProp{
			Verdict:   string(r.Verdict),
			Score:     r.Score,
			Severity:  string(f.Severity),
			Category:  string(f.Category),
			Package:   r.Package,
			Version:   r.Version,
			Integrity: r.Integrity,
			Source:    r.Source,
			Project:   r.Project,
			Paths:     r.Paths,
		},
	}
	if r.Package != "" && r.Version != "" {
		res.Properties.PURL = npm.PURL(r.Package, r.Version)
	}
	return res
}

// PackageFileURI is the SARIF artifact URI of a file inside a package:
// <name>@<version>/<path>, each segment percent-encoded, relative (to the
// PACKAGES base). An empty path names the package itself.
func PackageFileURI(name, version, path string) string {
	p := name + "@" + version
	if path != "" {
		p += "/" + strings.TrimPrefix(path, "/")
	}
	// url.URL escapes what a URI cannot hold and prefixes "./" when the
	// first segment holds a colon, so it cannot be misread as a scheme.
	return (&url.URL{Path: p}).String()
}
