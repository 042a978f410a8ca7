package cli

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// analyzeSchemaVersion versions the JSON document of 'vigil analyze'.
const analyzeSchemaVersion = "1.0"

// analyzeFailOnLevels are the accepted --fail-on values of analyze, least
// to most permissive.
var analyzeFailOnLevels = []string{"clean", "suspicious", "malicious", "none"}

type analyzeFlags struct {
	format   string
	output   string
	failOn   string
	registry string
}

func newAnalyzeCmd(e *env) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze TARGET...",
		Short: "Decide from its contents alone whether a package version is malicious",
		Long: `Analyze reads each TARGET — a package tarball (.tgz), an unpacked package folder, or name@version
fetched from the registry — and reports a verdict (clean, suspicious, malicious) with a score, every
finding (rule, severity, file:line:col, a sanitised evidence excerpt) and the reasons that make up the
score. Package code is never executed, required or installed: tarballs are read in memory, within
limits, and nothing is written to disk. The rules are described in docs/detection.md.

name@version is fetched from --registry (default: $VIGIL_REGISTRY, else ` + registry.DefaultURL + `) and
verified against the packument's dist.integrity. A version the packument no longer lists (unpublished,
or removed as malware) is fetched from the tarball's conventional URL instead; the report then says
that nothing vouches for those bytes.

A target that cannot be read (a hostile tarball hitting a limit, a malformed archive, a registry
error) is reported as an error for that target and the other targets still run. An unreadable target
must not pass silently: it counts as reaching "suspicious" for --fail-on, and when no target at all
could be analysed the command exits 127 (unless --fail-on was already reached).

Exit codes: 0 nothing reached --fail-on, 1 a verdict reached --fail-on, 2 usage error,
127 unexpected error or no target could be analysed.`,
		Example: `  vigil analyze debug@4.4.2
  vigil analyze ./pkg.tgz --format json
  vigil analyze ./node_modules/left-pad --fail-on suspicious`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAnalyze(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: table, json")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.StringVar(&f.failOn, "fail-on", "malicious", "exit 1 when a verdict reaches: "+strings.Join(analyzeFailOnLevels, ", "))
	fl.StringVar(&f.registry, "registry", "", "registry for name@version targets (default: $VIGIL_REGISTRY, else "+registry.DefaultURL+")")
	return cmd
}

// targetKind says how a TARGET is read.
type targetKind string

const (
	kindTarball  targetKind = "tarball"
	kindFolder   targetKind = "folder"
	kindRegistry targetKind = "registry"
)

type analyzeTarget struct {
	arg           string
	kind          targetKind
	name, version string // for kindRegistry
}

// analyzeResult is one target's entry in the report: the analysis
// (analyze.Report's fields, inlined) or the error that prevented it.
type analyzeResult struct {
	Target string     `json:"target"`
	Kind   targetKind `json:"kind"`
	Status string     `json:"status"` // "analysed" or "error"
	Error  string     `json:"error,omitempty"`
	*analyze.Report
	Fetch    *fetchInfo `json:"fetch,omitempty"`
	Warnings []string   `json:"tarball_warnings,omitempty"`
	// NotLoaded lists files too large to load, which were not analysed.
	NotLoaded []string `json:"not_loaded,omitempty"`
}

// fetchInfo says where a name@version tarball came from and what vouches
// for it.
type fetchInfo struct {
	Registry   string `json:"registry"`
	TarballURL string `json:"tarball_url"`
	Integrity  string `json:"integrity"`
	Verified   bool   `json:"verified"`
	Unlisted   bool   `json:"unlisted"`
	Note       string `json:"note"`
}

const unlistedNote = "the packument does not list this version: the tarball came from its conventional URL and " +
	"could not be verified against a packument (the integrity is only the digest of the bytes received)"

func runAnalyze(ctx context.Context, e *env, f analyzeFlags, args []string) error {
	if !contains(analyzeFailOnLevels, f.failOn) {
		return usagef("--fail-on %q: want one of %s", f.failOn, strings.Join(analyzeFailOnLevels, ", "))
	}
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: want table or json", f.format)
	}
	targets := make([]analyzeTarget, 0, len(args))
	needRegistry := false
	for _, a := range args {
		t, err := classifyTarget(a)
		if err != nil {
			return err
		}
		needRegistry = needRegistry || t.kind == kindRegistry
		targets = append(targets, t)
	}
	var client *registry.Client
	if needRegistry {
		base := f.registry
		if base == "" {
			base = e.getenv("VIGIL_REGISTRY")
		}
		if base == "" {
			base = registry.DefaultURL
		}
		c, err := registry.New(base, registry.Options{UserAgent: "vigil/" + Version})
		if err != nil {
			return usagef("--registry %s: %v", base, err)
		}
		client = c
	}

	results := make([]analyzeResult, 0, len(targets))
	analysed, failed := 0, 0
	for _, t := range targets {
		r := analyzeOne(ctx, e, client, t)
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Report == nil {
			failed++
			fmt.Fprintf(e.stderr, "vigil: %s: %s\n", rules.Sanitize(t.arg, 200), r.Error)
		} else {
			analysed++
		}
		results = append(results, r)
	}

	out, closeOut, err := openOutput(e, f.output)
	if err != nil {
		return err
	}
	if f.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			SchemaVersion string          `json:"schema_version"`
			Tool          string          `json:"tool"`
			Reports       []analyzeResult `json:"reports"`
		}{analyzeSchemaVersion, "vigil " + Version, results})
	} else {
		err = writeAnalyzeTable(out, results)
	}
	if err != nil {
		closeOut()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}

	for _, r := range results {
		if reachesFailOn(r, f.failOn) {
			return errFindings
		}
	}
	if analysed == 0 {
		return fmt.Errorf("no target could be analysed (%d unreadable)", failed)
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "vigil: %d of %d targets could not be analysed (counted as suspicious; --fail-on %s not reached)\n", failed, len(targets), f.failOn)
	}
	return nil
}

// classifyTarget decides what a TARGET is: an existing file or folder
// wins over name@version, so ./pkg@1.0.0 stays a path.
func classifyTarget(a string) (analyzeTarget, error) {
	if st, err := os.Stat(a); err == nil {
		if st.IsDir() {
			return analyzeTarget{arg: a, kind: kindFolder}, nil
		}
		return analyzeTarget{arg: a, kind: kindTarball}, nil
	}
	if strings.HasSuffix(a, ".tgz") || strings.HasSuffix(a, ".tar.gz") || (strings.ContainsAny(a, `/\`) && !strings.HasPrefix(a, "@")) {
		return analyzeTarget{}, usagef("%s: no such file or folder", a)
	}
	at := strings.LastIndex(a, "@")
	if at <= 0 || at == len(a)-1 {
		return analyzeTarget{}, usagef("%s: not a file, a folder or name@version", a)
	}
	name, version := a[:at], a[at+1:]
	if err := npm.ValidateName(name); err != nil {
		return analyzeTarget{}, usagef("%s: %v", a, err)
	}
	return analyzeTarget{arg: a, kind: kindRegistry, name: name, version: version}, nil
}

// analyzeOne reads and analyses one target; a failure becomes the
// result's Error.
func analyzeOne(ctx context.Context, e *env, client *registry.Client, t analyzeTarget) analyzeResult {
	res := analyzeResult{Target: t.arg, Kind: t.kind, Status: "error"}
	lim := tarball.DefaultLimits()
	var (
		arc                      *tarball.Archive
		name, version, integrity string
		err                      error
	)
	switch t.kind {
	case kindFolder:
		e.logger.Debug("reading folder", "path", t.arg)
		arc, err = tarball.ReadDir(ctx, t.arg, lim)
	case kindTarball:
		e.logger.Debug("reading tarball", "path", t.arg)
		var data []byte
		data, err = readCapped(t.arg, lim.MaxCompressed)
		if err == nil {
			integrity = sriSHA512(data)
			arc, err = tarball.Read(ctx, bytes.NewReader(data), lim)
		}
	case kindRegistry:
		e.logger.Debug("fetching", "package", t.name, "version", t.version, "registry", client.BaseURL())
		var rel *registry.Release
		rel, err = client.FetchVersion(ctx, t.name, t.version)
		if err == nil {
			name, version, integrity = rel.Name, rel.Version, rel.Integrity
			res.Fetch = &fetchInfo{Registry: client.BaseURL(), TarballURL: rel.TarballURL, Integrity: rel.Integrity, Verified: rel.Verified, Unlisted: rel.Unlisted}
			switch {
			case rel.Unlisted:
				res.Fetch.Note = unlistedNote
			case rel.Verified:
				res.Fetch.Note = "verified against the packument's dist.integrity"
			default:
				res.Fetch.Note = "not verified"
			}
			arc, err = tarball.Read(ctx, bytes.NewReader(rel.Tarball), lim)
		}
	}
	if err != nil {
		res.Error = "cannot read: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	for _, w := range arc.Warnings {
		res.Warnings = append(res.Warnings, rules.Sanitize(w.String(), 300))
	}
	if arc.WarningsDropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("… and %d more warnings", arc.WarningsDropped))
	}
	for _, s := range arc.Skipped {
		if s.Reason == tarball.ReasonTooLarge {
			res.NotLoaded = append(res.NotLoaded, rules.Sanitize(s.Name, 200))
		}
	}
	rep, err := analyze.Analyze(ctx, analyze.FromArchive(arc, name, version, integrity), analyze.Options{})
	if err != nil {
		res.Error = "cannot analyse: " + rules.Sanitize(err.Error(), 400)
		return res
	}
	res.Report, res.Status = rep, "analysed"
	return res
}

// readCapped reads a file, refusing more than max bytes (the tarball
// reader's compressed-size limit) before holding it in memory.
func readCapped(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &tarball.LimitError{Limit: tarball.LimitCompressed, Max: float64(max), Value: float64(len(data))}
	}
	return data, nil
}

func sriSHA512(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// verdictRank orders verdicts for --fail-on; an unreadable target ranks
// as suspicious.
func verdictRank(r analyzeResult) int {
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

func reachesFailOn(r analyzeResult, failOn string) bool {
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

// writeAnalyzeTable prints one block per target. Everything that came
// from the package (names, paths, messages, evidence) is sanitised.
func writeAnalyzeTable(w io.Writer, results []analyzeResult) error {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		if r.Report == nil {
			fmt.Fprintf(&b, "%s  ERROR  (counts as suspicious)\n  %s\n", rules.Sanitize(r.Target, 200), r.Error)
			continue
		}
		id := rules.Sanitize(r.Package, 214) + "@" + rules.Sanitize(r.Version, 64)
		if r.Package == "" {
			id = rules.Sanitize(r.Target, 200)
		}
		fmt.Fprintf(&b, "%s  %s  score %d\n", id, strings.ToUpper(string(r.Verdict)), r.Score)
		fmt.Fprintf(&b, "  target: %s (%s)\n", rules.Sanitize(r.Target, 200), r.Kind)
		if fi := r.Fetch; fi != nil {
			fmt.Fprintf(&b, "  fetched: %s\n", rules.Sanitize(fi.TarballURL, 300))
			if fi.Unlisted {
				b.WriteString("  WARNING: UNVERIFIED — " + fi.Note + "\n")
			} else {
				b.WriteString("  " + fi.Note + "\n")
			}
		}
		if r.Integrity != "" {
			fmt.Fprintf(&b, "  integrity: %s\n", r.Integrity)
		}
		st := r.Stats
		fmt.Fprintf(&b, "  read: %d files (%d bytes), %d JavaScript (%d bytes)", st.Files, st.Bytes, st.JSFiles, st.JSBytes)
		if n := len(st.ParseFailures); n > 0 {
			fmt.Fprintf(&b, ", %d parse failures", n)
		}
		if n := len(r.NotLoaded); n > 0 {
			fmt.Fprintf(&b, ", %d too large to analyse", n)
		}
		b.WriteString("\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "  tarball warning: %s\n", wn)
		}
		if len(r.Findings) == 0 {
			b.WriteString("  no findings\n")
			continue
		}
		var sev rules.Severity
		for j, fd := range r.Findings {
			if j == 0 || fd.Severity != sev {
				sev = fd.Severity
				fmt.Fprintf(&b, "  %s\n", strings.ToUpper(string(sev)))
			}
			fmt.Fprintf(&b, "    %s %s  %s  %s\n", fd.Rule, fd.Name, location(fd), rules.Sanitize(fd.Message, 300))
			if fd.Evidence != "" {
				fmt.Fprintf(&b, "      | %s\n", rules.Sanitize(fd.Evidence, 120))
			}
		}
		b.WriteString("  score:\n")
		for _, rs := range r.Reasons {
			src := rs.Source
			if rs.File != "" {
				src += " (" + rules.Sanitize(rs.File, 200) + ")"
			}
			fmt.Fprintf(&b, "    %+4d  %s: %s\n", rs.Points, src, rules.Sanitize(rs.Why, 300))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func location(fd analyze.Finding) string {
	if fd.File == "" {
		return "-"
	}
	loc := rules.Sanitize(fd.File, 200)
	if fd.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", fd.Line, fd.Col)
	}
	return loc
}
