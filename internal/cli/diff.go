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
	"github.com/vigil-sec/vigil/internal/diff"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/tarball"
)

// diffSchemaVersion versions the JSON document of 'vigil diff'.
const diffSchemaVersion = "1.0"

// diffFailOnLevels are the accepted --fail-on values of diff.
var diffFailOnLevels = []string{"none", "suspicious", "malicious"}

type diffFlags struct {
	format   string
	output   string
	registry string
	failOn   string
	context  int
	noCode   bool
}

func newDiffCmd(e *env) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff A [B]",
		Short: "Show what changed between two releases of a package",
		Long: `Diff compares release A with release B of a package. Each is a package tarball (.tgz), an unpacked
package folder, or name@version fetched from the registry; with a single name@version, B is that
release and A the release before it in its line (4.4.2 is compared with 4.4.1, a backport 3.10.2
with 3.10.1).

It shows the files added, removed and changed (text files with a bounded unified diff: a long line
is cut to a window around its first changed byte), package.json field by field (lifecycle scripts
flagged), the capabilities that appear (network, process execution, environment access, filesystem
writes, dynamic code, obfuscation…), the analysis findings new in B, and — for registry releases —
the publication signals: publisher or maintainers changed, provenance or trusted publishing lost
since an earlier release of the line, a dormant package publishing again, a release pushed into an
old line, a burst of releases. B's verdict is also given "with history": behaviour new in B weighs
more than behaviour the package always had (docs/diff.md).

Package code is never executed: tarballs are read in memory within limits, and everything taken
from a package is sanitised before it is printed.

Exit codes: 0 B's verdict with history is below --fail-on, 1 it reached --fail-on, 2 usage error,
127 a release could not be read or fetched.`,
		Example: `  vigil diff debug@4.4.2
  vigil diff debug@4.4.1 debug@4.4.2 --format json
  vigil diff ./old.tgz ./new.tgz --context 1 --fail-on suspicious`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "table", "output format: table, json")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.StringVar(&f.registry, "registry", "", "registry for name@version targets (default: $VIGIL_REGISTRY, else "+registry.DefaultURL+")")
	fl.StringVar(&f.failOn, "fail-on", "none", "exit 1 when B's verdict with history reaches: "+strings.Join(diffFailOnLevels, ", "))
	fl.IntVar(&f.context, "context", diff.DefaultContext, "unchanged lines shown around each change")
	fl.BoolVar(&f.noCode, "no-code", false, "omit the line diffs (hunks)")
	return cmd
}

// diffTarget is one release to compare.
type diffTarget struct {
	arg           string
	kind          string // "tarball", "folder" or "registry"
	name, version string // registry only
}

// diffSideInfo says where a release came from, for the report.
type diffSideInfo struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// Fetch is set for registry releases.
	Fetch *diffFetch `json:"fetch,omitempty"`
	// Warnings are the tarball reader's anomalies.
	Warnings []string `json:"tarball_warnings,omitempty"`
}

type diffFetch struct {
	Registry   string `json:"registry"`
	TarballURL string `json:"tarball_url"`
	Verified   bool   `json:"verified"`
	Unlisted   bool   `json:"unlisted"`
}

// diffDocument is the JSON report.
type diffDocument struct {
	SchemaVersion string       `json:"schema_version"`
	Tool          string       `json:"tool"`
	A             diffSideInfo `json:"a"`
	B             diffSideInfo `json:"b"`
	Diff          *diff.Diff   `json:"diff"`
	// WithHistory is B's analysis folded with the diff (diff.Fold): the
	// verdict --fail-on reads. Added lists only the reasons Fold added.
	WithHistory diffFolded `json:"with_history"`
}

type diffFolded struct {
	Verdict analyze.Verdict  `json:"verdict"`
	Score   int              `json:"score"`
	Added   []analyze.Reason `json:"added_reasons"`
}

func runDiff(ctx context.Context, e *env, f diffFlags, args []string) error {
	if !contains(diffFailOnLevels, f.failOn) {
		return usagef("--fail-on %q: want one of %s", f.failOn, strings.Join(diffFailOnLevels, ", "))
	}
	if f.format != "table" && f.format != "json" {
		return usagef("--format %q: want table or json", f.format)
	}
	if f.context < 0 {
		return usagef("--context %d: want 0 or more lines", f.context)
	}
	targets := make([]diffTarget, 0, len(args))
	needRegistry := false
	for _, a := range args {
		t, err := classifyDiffTarget(a)
		if err != nil {
			return err
		}
		needRegistry = needRegistry || t.kind == "registry"
		targets = append(targets, t)
	}
	if len(targets) == 1 && targets[0].kind != "registry" {
		return usagef("%s: with a single release, give name@version (its previous release is fetched to compare with)", targets[0].arg)
	}
	var client *registry.Client
	if needRegistry {
		c, err := diffRegistryClient(e, f.registry)
		if err != nil {
			return err
		}
		client = c
	}

	var sides [2]diff.Side
	var infos [2]diffSideInfo
	var err error
	if len(targets) == 1 {
		sides, infos, err = loadWithPrevious(ctx, e, client, targets[0])
	} else {
		for i, t := range targets {
			sides[i], infos[i], err = loadDiffSide(ctx, e, client, t)
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}

	ctxLines := f.context
	if ctxLines == 0 {
		ctxLines = -1 // diff.Options: 0 means the default, negative none
	}
	d, err := diff.Compare(ctx, sides[0], sides[1], diff.Options{Context: ctxLines, NoHunks: f.noCode})
	if err != nil {
		return err
	}
	folded := diff.Fold(d.B.Report, d)
	doc := diffDocument{
		SchemaVersion: diffSchemaVersion, Tool: "vigil " + Version, A: infos[0], B: infos[1], Diff: d,
		WithHistory: diffFolded{Verdict: folded.Verdict, Score: folded.Score, Added: folded.Reasons[len(d.B.Report.Reasons):]},
	}
	if doc.WithHistory.Added == nil {
		doc.WithHistory.Added = []analyze.Reason{}
	}
	sanitizeDiff(d)

	out, closeOut, err := openOutput(e, f.output)
	if err != nil {
		return err
	}
	if f.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // "a <b@c>" reads better than \u003c; this is no HTML
		err = enc.Encode(doc)
	} else {
		err = writeDiffTable(out, &doc)
	}
	if err != nil {
		closeOut()
		return fmt.Errorf("writing report: %w", err)
	}
	if err := closeOut(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if diffReachesFailOn(folded.Verdict, f.failOn) {
		return errFindings
	}
	return nil
}

// classifyDiffTarget decides what a release argument is: an existing file
// or folder wins over name@version, so ./pkg@1.0.0 stays a path.
func classifyDiffTarget(a string) (diffTarget, error) {
	if st, err := os.Stat(a); err == nil {
		if st.IsDir() {
			return diffTarget{arg: a, kind: "folder"}, nil
		}
		return diffTarget{arg: a, kind: "tarball"}, nil
	}
	if strings.HasSuffix(a, ".tgz") || strings.HasSuffix(a, ".tar.gz") || (strings.ContainsAny(a, `/\`) && !strings.HasPrefix(a, "@")) {
		return diffTarget{}, usagef("%s: no such file or folder", rules.Sanitize(a, 200))
	}
	at := strings.LastIndex(a, "@")
	if at <= 0 || at == len(a)-1 {
		return diffTarget{}, usagef("%s: not a file, a folder or name@version", rules.Sanitize(a, 200))
	}
	name, version := a[:at], a[at+1:]
	if err := npm.ValidateName(name); err != nil {
		return diffTarget{}, usagef("%s: %v", rules.Sanitize(a, 200), err)
	}
	return diffTarget{arg: a, kind: "registry", name: name, version: version}, nil
}

func diffRegistryClient(e *env, flag string) (*registry.Client, error) {
	base := flag
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
	return c, nil
}

// loadWithPrevious fetches name@version and the release before it.
func loadWithPrevious(ctx context.Context, e *env, client *registry.Client, t diffTarget) ([2]diff.Side, [2]diffSideInfo, error) {
	var sides [2]diff.Side
	var infos [2]diffSideInfo
	relB, err := fetchDiffRelease(ctx, e, client, t)
	if err != nil {
		return sides, infos, err
	}
	prev, err := diff.PreviousOf(relB)
	if err != nil {
		return sides, infos, err
	}
	ta := diffTarget{arg: t.name + "@" + prev, kind: "registry", name: t.name, version: prev}
	relA, err := fetchDiffRelease(ctx, e, client, ta)
	if err != nil {
		return sides, infos, err
	}
	for i, x := range []struct {
		t   diffTarget
		rel *registry.Release
	}{{ta, relA}, {t, relB}} {
		if sides[i], infos[i], err = releaseSide(ctx, client, x.t, x.rel); err != nil {
			return sides, infos, err
		}
	}
	return sides, infos, nil
}

func fetchDiffRelease(ctx context.Context, e *env, client *registry.Client, t diffTarget) (*registry.Release, error) {
	e.logger.Debug("fetching", "package", t.name, "version", t.version, "registry", client.BaseURL())
	rel, err := client.FetchVersion(ctx, t.name, t.version)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", rules.Sanitize(t.arg, 200), rules.Sanitize(err.Error(), 400))
	}
	return rel, nil
}

func releaseSide(ctx context.Context, client *registry.Client, t diffTarget, rel *registry.Release) (diff.Side, diffSideInfo, error) {
	info := diffSideInfo{Target: t.arg, Kind: t.kind, Fetch: &diffFetch{
		Registry: client.BaseURL(), TarballURL: rel.TarballURL, Verified: rel.Verified, Unlisted: rel.Unlisted,
	}}
	arc, err := tarball.Read(ctx, bytes.NewReader(rel.Tarball), tarball.DefaultLimits())
	if err != nil {
		return diff.Side{}, info, fmt.Errorf("%s: cannot read: %s", rules.Sanitize(t.arg, 200), rules.Sanitize(err.Error(), 400))
	}
	info.Warnings = diffWarnings(arc)
	s := diff.FromArchive(arc, rel.Name, rel.Version, rel.Integrity)
	s.Packument, s.Manifest = rel.Packument, rel.Manifest
	return s, info, nil
}

// loadDiffSide reads one release from a file, a folder or the registry.
func loadDiffSide(ctx context.Context, e *env, client *registry.Client, t diffTarget) (diff.Side, diffSideInfo, error) {
	if t.kind == "registry" {
		rel, err := fetchDiffRelease(ctx, e, client, t)
		if err != nil {
			return diff.Side{}, diffSideInfo{}, err
		}
		return releaseSide(ctx, client, t, rel)
	}
	info := diffSideInfo{Target: t.arg, Kind: t.kind}
	lim := tarball.DefaultLimits()
	var arc *tarball.Archive
	var integrity string
	var err error
	if t.kind == "folder" {
		e.logger.Debug("reading folder", "path", t.arg)
		arc, err = tarball.ReadDir(ctx, t.arg, lim)
	} else {
		e.logger.Debug("reading tarball", "path", t.arg)
		var data []byte
		data, err = readDiffTarball(t.arg, lim.MaxCompressed)
		if err == nil {
			sum := sha512.Sum512(data)
			integrity = "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
			arc, err = tarball.Read(ctx, bytes.NewReader(data), lim)
		}
	}
	if err != nil {
		return diff.Side{}, info, fmt.Errorf("%s: cannot read: %s", rules.Sanitize(t.arg, 200), rules.Sanitize(err.Error(), 400))
	}
	info.Warnings = diffWarnings(arc)
	return diff.FromArchive(arc, "", "", integrity), info, nil
}

// readDiffTarball reads a file, refusing more than max bytes before
// holding it in memory.
func readDiffTarball(path string, max int64) ([]byte, error) {
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

func diffWarnings(arc *tarball.Archive) []string {
	var out []string
	for _, w := range arc.Warnings {
		out = append(out, rules.Sanitize(w.String(), 300))
	}
	if arc.WarningsDropped > 0 {
		out = append(out, fmt.Sprintf("… and %d more warnings", arc.WarningsDropped))
	}
	return out
}

func diffReachesFailOn(v analyze.Verdict, failOn string) bool {
	switch failOn {
	case "suspicious":
		return v == analyze.Suspicious || v == analyze.Malicious
	case "malicious":
		return v == analyze.Malicious
	}
	return false
}

// sanitizeDiff makes the identities the diff keeps verbatim (paths, names,
// versions) safe to print, in both formats: a file named with an escape
// sequence must not reach a terminal through `jq` either. Hunk text,
// package.json values and messages are sanitised by package diff.
func sanitizeDiff(d *diff.Diff) {
	p := func(s *string) { *s = rules.Sanitize(*s, 300) }
	for _, s := range []*diff.Summary{&d.A, &d.B} {
		p(&s.Name)
		p(&s.Version)
	}
	for i := range d.Files.Added {
		p(&d.Files.Added[i].Path)
	}
	for i := range d.Files.Removed {
		p(&d.Files.Removed[i].Path)
	}
	for i := range d.Files.Changed {
		p(&d.Files.Changed[i].Path)
	}
	for i := range d.Files.NotCompared {
		p(&d.Files.NotCompared[i].Path)
	}
	for i := range d.Manifest.Changes {
		p(&d.Manifest.Changes[i].Field)
		p(&d.Manifest.Changes[i].Key)
	}
	for _, cs := range [][]diff.Capability{d.Capabilities.Appeared, d.Capabilities.Disappeared} {
		for i := range cs {
			for j := range cs[i].Evidence {
				p(&cs[i].Evidence[j].File)
			}
		}
	}
	for _, fs := range [][]analyze.Finding{d.NewFindings, d.GoneFindings} {
		for i := range fs {
			p(&fs[i].File)
			fs[i].Message = rules.Sanitize(fs[i].Message, 400)
		}
	}
}

// writeDiffTable prints the report for a reader: who changed what, the
// registry's signals, package.json, new capabilities and findings, the
// score with history, then the code changes.
func writeDiffTable(w io.Writer, doc *diffDocument) error {
	d := doc.Diff
	var b strings.Builder
	id := func(s diff.Summary) string { return s.Name + "@" + s.Version }
	fmt.Fprintf(&b, "%s → %s\n", id(d.A), id(d.B))
	for i, s := range []diff.Summary{d.A, d.B} {
		info := []diffSideInfo{doc.A, doc.B}[i]
		fmt.Fprintf(&b, "  %s  %-24s %-10s score %-4d %s (%s)\n", "AB"[i:i+1], id(s), strings.ToUpper(string(s.Verdict)), s.Score,
			rules.Sanitize(info.Target, 200), info.Kind)
		if fi := info.Fetch; fi != nil {
			note := "verified against the packument's dist.integrity"
			switch {
			case fi.Unlisted:
				note = "WARNING: UNVERIFIED — the packument does not list this version"
			case !fi.Verified:
				note = "not verified"
			}
			fmt.Fprintf(&b, "     fetched %s — %s\n", rules.Sanitize(fi.TarballURL, 300), note)
		}
		if s.Publisher != "" || !s.Published.IsZero() {
			fmt.Fprintf(&b, "     published")
			if !s.Published.IsZero() {
				fmt.Fprintf(&b, " %s", s.Published.UTC().Format("2006-01-02 15:04 UTC"))
			}
			if s.Publisher != "" {
				fmt.Fprintf(&b, " by %s", s.Publisher)
			}
			fmt.Fprintf(&b, ", trust: %s\n", s.Trust)
		}
		for _, wn := range info.Warnings {
			fmt.Fprintf(&b, "     tarball warning: %s\n", wn)
		}
	}
	fmt.Fprintf(&b, "  B with history: %s  score %d\n", strings.ToUpper(string(doc.WithHistory.Verdict)), doc.WithHistory.Score)

	b.WriteString("\nRegistry signals\n")
	switch {
	case doc.B.Fetch == nil:
		b.WriteString("  (none: B did not come from a registry)\n")
	case len(d.Signals) == 0:
		b.WriteString("  none\n")
	}
	for _, s := range d.Signals {
		mark, pts := "·", ""
		if s.Points > 0 {
			mark, pts = "!", fmt.Sprintf(" (+%d with new behaviour)", s.Points)
		}
		fmt.Fprintf(&b, "  %s %s%s: %s\n", mark, s.Kind, pts, s.Message)
	}

	writeDiffFiles(&b, &d.Files)
	writeDiffManifest(&b, &d.Manifest)

	if len(d.Capabilities.Appeared) > 0 {
		b.WriteString("\nCapabilities that appear\n")
		writeDiffCapabilities(&b, "+", d.Capabilities.Appeared)
	}
	if len(d.Capabilities.Disappeared) > 0 {
		b.WriteString("\nCapabilities that disappear\n")
		writeDiffCapabilities(&b, "-", d.Capabilities.Disappeared)
	}

	fmt.Fprintf(&b, "\nNew findings in B (%d)\n", len(d.NewFindings))
	var sev rules.Severity
	for i, fd := range d.NewFindings {
		if i == 0 || fd.Severity != sev {
			sev = fd.Severity
			fmt.Fprintf(&b, "  %s\n", strings.ToUpper(string(sev)))
		}
		fmt.Fprintf(&b, "    %s %s  %s  %s\n", fd.Rule, fd.Name, diffLocation(fd), fd.Message)
		if fd.Evidence != "" {
			fmt.Fprintf(&b, "      | %s\n", rules.Sanitize(fd.Evidence, 120))
		}
	}
	if n := len(d.GoneFindings); n > 0 {
		fmt.Fprintf(&b, "\nFindings gone from A (%d)\n", n)
		for _, fd := range d.GoneFindings {
			fmt.Fprintf(&b, "    %s %s %s  %s\n", strings.ToUpper(string(fd.Severity)), fd.Rule, fd.Name, diffLocation(fd))
		}
	}

	fmt.Fprintf(&b, "\nScore with history: %d (%s) → %d (%s)\n", d.B.Score, d.B.Verdict, doc.WithHistory.Score, doc.WithHistory.Verdict)
	if len(doc.WithHistory.Added) == 0 {
		b.WriteString("  nothing new weighs differently\n")
	}
	for _, r := range doc.WithHistory.Added {
		src := r.Source
		if r.File != "" {
			src += " (" + rules.Sanitize(r.File, 200) + ")"
		}
		fmt.Fprintf(&b, "  %+4d  %s\n", r.Points, src)
	}

	writeDiffHunks(&b, &d.Files)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDiffFiles(b *strings.Builder, fs *diff.Files) {
	fmt.Fprintf(b, "\nFiles: %d changed, %d added, %d removed, %d unchanged (%s bytes)\n",
		len(fs.Changed), len(fs.Added), len(fs.Removed), fs.Unchanged, commas(fs.UnchangedBytes))
	for _, c := range fs.Changed {
		fmt.Fprintf(b, "  changed  %-8s %s  %s → %s bytes (%s)", c.Class, c.Path, commas(c.SizeA), commas(c.SizeB), signed(c.Delta))
		if t := c.Text; t != nil {
			fmt.Fprintf(b, "  +%d -%d lines", t.Added, t.Removed)
		}
		if c.ModeChanged {
			if c.ExecutableB {
				b.WriteString("  now executable")
			} else {
				b.WriteString("  no longer executable")
			}
		}
		b.WriteString("\n")
	}
	for _, f := range fs.Added {
		fmt.Fprintf(b, "  added    %-8s %s  %s bytes\n", f.Class, f.Path, commas(f.Size))
	}
	for _, f := range fs.Removed {
		fmt.Fprintf(b, "  removed  %-8s %s  %s bytes\n", f.Class, f.Path, commas(f.Size))
	}
	for _, n := range fs.NotCompared {
		fmt.Fprintf(b, "  not compared (too large to load)  %s  %s → %s bytes\n", n.Path, sizeOrNone(n.SizeA), sizeOrNone(n.SizeB))
	}
}

func writeDiffManifest(b *strings.Builder, m *diff.ManifestDiff) {
	b.WriteString("\npackage.json\n")
	if m.ErrorA != "" {
		fmt.Fprintf(b, "  A: %s\n", m.ErrorA)
	}
	if m.ErrorB != "" {
		fmt.Fprintf(b, "  B: %s\n", m.ErrorB)
	}
	var others []string
	shown := 0
	for _, c := range m.Changes {
		if !c.Watched {
			others = append(others, c.Field)
			continue
		}
		shown++
		name := c.Field
		if c.Key != "" {
			name += "." + c.Key
		}
		switch c.Change {
		case diff.Added:
			fmt.Fprintf(b, "  + %s: %s", name, c.New)
		case diff.Removed:
			fmt.Fprintf(b, "  - %s: %s", name, c.Old)
		default:
			fmt.Fprintf(b, "  ~ %s: %s → %s", name, c.Old, c.New)
		}
		switch {
		case c.InstallTime:
			b.WriteString("   [LIFECYCLE: runs on every install]")
		case c.Lifecycle:
			b.WriteString("   [LIFECYCLE: runs on install from git or a folder]")
		}
		b.WriteString("\n")
	}
	if len(others) > 0 {
		fmt.Fprintf(b, "  also changed: %s\n", strings.Join(others, ", "))
	}
	if shown == 0 && len(others) == 0 && m.ErrorA == "" && m.ErrorB == "" {
		b.WriteString("  no changes\n")
	}
}

func writeDiffCapabilities(b *strings.Builder, mark string, cs []diff.Capability) {
	for _, c := range cs {
		fmt.Fprintf(b, "  %s %s", mark, c.Name)
		if c.Summary != "" {
			fmt.Fprintf(b, " (%s)", c.Summary)
		}
		b.WriteString("\n")
		for _, p := range c.Evidence {
			fmt.Fprintf(b, "      %s  %s\n", placeString(p.File, p.Line, p.Col), p.What)
		}
		if c.More > 0 {
			fmt.Fprintf(b, "      … and %d more\n", c.More)
		}
	}
}

// writeDiffHunks prints the line diffs of changed and added code files;
// other text files' hunks are in the JSON report.
func writeDiffHunks(b *strings.Builder, fs *diff.Files) {
	header := false
	show := func(from, to string, t *diff.TextDiff) {
		if !header {
			b.WriteString("\nCode changes\n")
			header = true
		}
		fmt.Fprintf(b, "--- %s\n+++ %s\n", from, to)
		r := t.Region
		if r.LenA > 0 {
			fmt.Fprintf(b, "  changed region: %s bytes of A replaced by %s bytes at line %d, col %d (offset %s)\n",
				commas(int64(r.LenA)), commas(int64(r.LenB)), r.Line, r.Col, commas(int64(r.Offset)))
		} else {
			fmt.Fprintf(b, "  changed region: %s bytes inserted at line %d, col %d (offset %s)\n",
				commas(int64(r.LenB)), r.Line, r.Col, commas(int64(r.Offset)))
		}
		if t.Coarse {
			b.WriteString("  (too many changed lines to match line by line: shown as one block)\n")
		}
		for _, h := range t.Hunks {
			fmt.Fprintf(b, "@@ -%d,%d +%d,%d @@\n", h.OldStart, h.OldLines, h.NewStart, h.NewLines)
			for _, l := range h.Lines {
				b.WriteString(l.Op + l.Text)
				if l.Cut {
					fmt.Fprintf(b, "  … [a line of %s bytes, shown from byte %s]", commas(int64(l.Len)), commas(int64(l.From)))
				}
				b.WriteString("\n")
			}
			if h.Omitted > 0 {
				fmt.Fprintf(b, "  … %d more lines of this hunk not shown\n", h.Omitted)
			}
		}
		if t.OmittedHunks > 0 {
			fmt.Fprintf(b, "  … %d more hunks not shown\n", t.OmittedHunks)
		}
	}
	for _, c := range fs.Changed {
		if c.Class == diff.ClassCode && c.Text != nil {
			show("a/"+c.Path, "b/"+c.Path, c.Text)
		}
	}
	for _, f := range fs.Added {
		if f.Class == diff.ClassCode && f.Text != nil {
			show("/dev/null", "b/"+f.Path, f.Text)
		}
	}
	if fs.Truncated {
		b.WriteString("  … the diff was cut at its size limit\n")
	}
}

func diffLocation(fd analyze.Finding) string {
	if fd.File == "" {
		return "-"
	}
	return placeString(fd.File, fd.Line, fd.Col)
}

// placeString is file, file:line or file:line:col, as far as known.
func placeString(file string, line, col int) string {
	switch {
	case line > 0 && col > 0:
		return fmt.Sprintf("%s:%d:%d", file, line, col)
	case line > 0:
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func signed(n int64) string {
	if n >= 0 {
		return "+" + commas(n)
	}
	return commas(n)
}

func sizeOrNone(n int64) string {
	if n < 0 {
		return "absent"
	}
	return commas(n)
}
