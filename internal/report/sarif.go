package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/scan"
)

// SARIF 2.1.0, the subset code-scanning services read. Field names follow
// the specification exactly; the test validates output against the
// official schema.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// fingerprintKey names vigil's dedupe key; the /v1 lets its recipe
	// change later without merging old and new alerts.
	fingerprintKey = "vigilFindingHash/v1"
	infoURI        = "https://github.com/vigil-sec/vigil"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  *sarifRunProps    `json:"properties,omitempty"`
}

type sarifRunProps struct {
	Database sarifDatabase `json:"database"`
}

type sarifDatabase struct {
	Source   string `json:"source,omitempty"`
	Records  int    `json:"records"`
	Built    string `json:"built,omitempty"`
	Embedded bool   `json:"embedded"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 *sarifText     `json:"help,omitempty"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleLevel `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifRuleLevel struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	// SecuritySeverity is a number in a string, as GitHub code scanning
	// reads it to rank alerts; absent when the severity is unknown.
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Tags             []string `json:"tags"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifResultProps struct {
	Kind          string     `json:"kind"`
	Severity      string     `json:"severity"`
	Package       string     `json:"package"`
	Version       string     `json:"version"`
	PURL          string     `json:"purl"`
	Dev           bool       `json:"dev"`
	SafeVersion   string     `json:"safeVersion,omitempty"`
	FixedVersions []string   `json:"fixedVersions,omitempty"`
	Paths         [][]string `json:"paths,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful            bool                `json:"executionSuccessful"`
	StartTimeUTC                   string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC                     string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications     []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	ToolConfigurationNotifications []sarifNotification `json:"toolConfigurationNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifHandler struct {
	w    io.Writer
	opts Options
}

func (h *sarifHandler) Write(ctx context.Context, r *scan.Result) error {
	if r == nil {
		return errors.New("report: nil result")
	}
	log, err := buildSARIF(ctx, r, h.opts)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(h.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

func buildSARIF(ctx context.Context, r *scan.Result, opts Options) (*sarifLog, error) {
	rules, index := sarifRules(r)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "vigil",
			Version:        opts.Version,
			InformationURI: infoURI,
			Rules:          rules,
		}},
		Results: []sarifResult{},
	}
	if db := r.Database; db.Source != "" || db.Records > 0 {
		p := &sarifRunProps{Database: sarifDatabase{Source: db.Source, Records: db.Records, Embedded: db.Embedded}}
		if !db.Built.IsZero() {
			p.Database.Built = db.Built.UTC().Format(time.RFC3339)
		}
		run.Properties = p
	}

	inv := sarifInvocation{ExecutionSuccessful: true}
	if !r.Started.IsZero() {
		inv.StartTimeUTC = r.Started.UTC().Format(time.RFC3339Nano)
		inv.EndTimeUTC = r.Started.Add(r.Duration).UTC().Format(time.RFC3339Nano)
	}
	for i := range r.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file := &r.Files[i]
		if file.Status == scan.StatusError {
			// A file that could not be read makes the results partial: say
			// so where a code-scanning service shows tool health, rather
			// than letting "no alerts" read as "clean".
			inv.ExecutionSuccessful = false
			line, col := errorPosition(file.Path, file.Error)
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:     "error",
				Message:   sarifText{Text: failureText(file)},
				Locations: []sarifLocation{sarifLoc(artifactURI(file.Path, opts.BaseDir), line, col)},
			})
		}
		for j := range file.Findings {
			f := &file.Findings[j]
			run.Results = append(run.Results, sarifResultOf(file, f, index[f.ID], opts))
		}
	}
	for _, ig := range r.UnusedIgnores {
		inv.ToolConfigurationNotifications = append(inv.ToolConfigurationNotifications, sarifNotification{
			Level:   "warning",
			Message: sarifText{Text: "unused ignore in vigil.yaml: " + ig},
		})
	}
	run.Invocations = []sarifInvocation{inv}
	return &sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}, nil
}

// sarifRules makes one rule per advisory or hygiene id, sorted by id, and
// returns each id's index into the list for result.ruleIndex.
func sarifRules(r *scan.Result) ([]sarifRule, map[string]int) {
	type agg struct {
		first    *scan.Finding
		kind     scan.Kind
		severity scan.Severity
	}
	byID := map[string]*agg{}
	var ids []string
	for i := range r.Files {
		for j := range r.Files[i].Findings {
			f := &r.Files[i].Findings[j]
			a := byID[f.ID]
			if a == nil {
				a = &agg{first: f, kind: f.Kind, severity: normSeverity(f.Severity)}
				byID[f.ID] = a
				ids = append(ids, f.ID)
			}
			if f.Severity.Rank() > a.severity.Rank() {
				a.severity = f.Severity
			}
			if kindOrder(f.Kind) < kindOrder(a.kind) {
				a.kind = f.Kind
			}
		}
	}
	slices.Sort(ids)
	rules := make([]sarifRule, 0, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		a := byID[id]
		f := a.first
		short := oneLine(f.Summary)
		if short == "" {
			short = id
		}
		full := strings.TrimSpace(f.Details)
		if full == "" {
			full = short
		}
		rule := sarifRule{
			ID:                   id,
			ShortDescription:     sarifText{Text: short},
			FullDescription:      sarifText{Text: full},
			HelpURI:              helpURI(id, a.kind, f.References),
			DefaultConfiguration: sarifRuleLevel{Level: sarifLevel(a.kind, a.severity)},
			Properties: sarifRuleProps{
				SecuritySeverity: securitySeverity(a.kind, a.severity),
				Tags:             ruleTags(a.kind, f.Aliases),
			},
		}
		if help := ruleHelp(f); help != "" {
			rule.Help = &sarifText{Text: help}
		}
		rules = append(rules, rule)
		index[id] = i
	}
	return rules, index
}

func ruleHelp(f *scan.Finding) string {
	var b strings.Builder
	b.WriteString(oneLine(f.Summary))
	if len(f.Aliases) > 0 {
		b.WriteString("\nAliases: " + strings.Join(f.Aliases, ", "))
	}
	if len(f.References) > 0 {
		b.WriteString("\nReferences:")
		for _, ref := range f.References {
			b.WriteString("\n- " + ref)
		}
	}
	return strings.TrimSpace(b.String())
}

// helpURI is the advisory's own first reference, else its osv.dev page.
// Vigil's own rules (VGL-…) have no osv.dev page, so they get none.
func helpURI(id string, kind scan.Kind, refs []string) string {
	for _, ref := range refs {
		if u, err := url.Parse(ref); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return ref
		}
	}
	if kind == scan.KindHygiene || strings.HasPrefix(id, "VGL-") || id == "" {
		return ""
	}
	return osvURL(id)
}

func osvURL(id string) string { return "https://osv.dev/vulnerability/" + url.PathEscape(id) }

func ruleTags(kind scan.Kind, aliases []string) []string {
	tags := []string{"security", "npm", "supply-chain"}
	if kind != "" {
		tags = append(tags, string(kind))
	}
	for _, a := range aliases {
		if strings.HasPrefix(a, "CVE-") {
			tags = append(tags, "external/cve/"+strings.ToLower(a))
		}
	}
	return tags
}

// securitySeverity maps severities onto CVSS-like scores in the middle of
// each GitHub band (critical ≥9, high ≥7, medium ≥4, low >0). Malware is
// always critical: there is no harmless malicious package.
func securitySeverity(kind scan.Kind, s scan.Severity) string {
	if kind == scan.KindMalware {
		return "9.5"
	}
	switch normSeverity(s) {
	case scan.SeverityCritical:
		return "9.5"
	case scan.SeverityHigh:
		return "8.0"
	case scan.SeverityMedium:
		return "5.5"
	case scan.SeverityLow:
		return "3.0"
	}
	return ""
}

func sarifLevel(kind scan.Kind, s scan.Severity) string {
	if kind == scan.KindMalware {
		return "error"
	}
	switch normSeverity(s) {
	case scan.SeverityCritical, scan.SeverityHigh:
		return "error"
	case scan.SeverityLow:
		return "note"
	}
	// Medium, and unknown: an advisory without a score is not harmless.
	return "warning"
}

func sarifResultOf(file *scan.FileResult, f *scan.Finding, ruleIndex int, opts Options) sarifResult {
	o := occurrence{file: file, f: f}
	uri := artifactURI(fileOf(o), opts.BaseDir)
	res := sarifResult{
		RuleID:    f.ID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Kind, f.Severity),
		Message:   sarifText{Text: sarifMessage(f)},
		Locations: []sarifLocation{sarifLoc(uri, f.Location.Line, f.Location.Column)},
		// The line is left out on purpose: a lockfile edit elsewhere moves
		// every line, and the alert must stay the same alert.
		PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f.ID, uri, f.Package.String())},
		Properties: sarifResultProps{
			Kind:          string(f.Kind),
			Severity:      string(normSeverity(f.Severity)),
			Package:       f.Package.Name,
			Version:       f.Package.Version,
			PURL:          npm.PURL(f.Package.Name, f.Package.Version),
			Dev:           f.Dev,
			SafeVersion:   f.SafeVersion,
			FixedVersions: f.FixedVersions,
		},
	}
	for _, p := range f.Paths {
		res.Properties.Paths = append(res.Properties.Paths, nonNil([]string(p)))
	}
	if f.Ignored != "" {
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.Ignored}}
	}
	return res
}

func sarifMessage(f *scan.Finding) string {
	var b strings.Builder
	b.WriteString(f.Package.String())
	switch {
	case f.Kind == scan.KindMalware && f.Dev:
		b.WriteString(" (malware, dev)")
	case f.Kind == scan.KindMalware:
		b.WriteString(" (malware)")
	case f.Dev:
		b.WriteString(" (dev)")
	}
	if s := oneLine(f.Summary); s != "" {
		b.WriteString(": " + s)
	}
	if !strings.HasSuffix(b.String(), ".") {
		b.WriteString(".")
	}
	if len(f.Paths) > 0 {
		b.WriteString(" Path: " + formatPath(f.Paths[0]))
		if n := len(f.Paths) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %s)", plural(n, "more path", "more paths"))
		}
		b.WriteString(".")
	}
	if fix := fixText(f); fix != "" {
		b.WriteString(" Fix: " + fix)
		if !strings.HasSuffix(fix, ".") {
			b.WriteString(".")
		}
	}
	if f.Ignored != "" {
		b.WriteString(" Ignored in vigil.yaml: " + f.Ignored)
	}
	return b.String()
}

func sarifLoc(uri string, line, col int) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
		if col > 0 {
			loc.PhysicalLocation.Region.StartColumn = col
		}
	}
	return loc
}

// artifactURI turns a lockfile path into the URI SARIF wants: relative to
// base when the file is inside it, forward slashes, percent-encoded; an
// absolute path outside base becomes a file:// URI.
func artifactURI(path, base string) string {
	p := path
	if base != "" {
		if rel, err := filepath.Rel(base, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			p = rel
		}
	}
	p = filepath.ToSlash(p)
	if filepath.IsAbs(path) && p == filepath.ToSlash(path) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive path
		}
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	p = strings.TrimPrefix(p, "./")
	// url.URL escapes spaces and friends, and prefixes "./" when the first
	// segment holds a colon so the result cannot be misread as a scheme.
	return (&url.URL{Path: p}).String()
}

func fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// errorPosition recovers line and column from a parse error's text
// ("path:12:3: msg"), which is all a FileResult keeps of the error.
func errorPosition(path, msg string) (line, col int) {
	rest, ok := strings.CutPrefix(msg, path+":")
	if !ok {
		return 0, 0
	}
	fields := strings.SplitN(rest, ":", 3)
	if len(fields) < 2 {
		return 0, 0
	}
	line, err := strconv.Atoi(fields[0])
	if err != nil || line <= 0 {
		return 0, 0
	}
	if len(fields) == 3 {
		if c, err := strconv.Atoi(fields[1]); err == nil && c > 0 {
			col = c
		}
	}
	return line, col
}

// oneLine folds whitespace runs (including newlines) to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
