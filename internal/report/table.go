package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/scan"
)

// tableHandler writes the human-readable report: what was read, then what
// needs doing, most urgent first, then one summary sentence.
type tableHandler struct {
	w    io.Writer
	opts Options
}

// ANSI SGR codes; kept to the basic 8 colours every terminal has.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrRed     = "31"
	sgrBoldRed = "1;31"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrCyan    = "36"
)

type table struct {
	*errWriter
	opts Options
}

func (t *table) style(code, s string) string {
	if !t.opts.Color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (h *tableHandler) Write(ctx context.Context, r *scan.Result) error {
	if r == nil {
		return errors.New("report: nil result")
	}
	active, ignored, err := groupFindings(ctx, r)
	if err != nil {
		return err
	}
	t := &table{errWriter: &errWriter{w: h.w}, opts: h.opts}
	t.header(r)
	t.files(r)

	sections := []struct {
		kind  scan.Kind
		title string
		code  string
	}{
		{scan.KindMalware, "MALWARE — remove now", sgrBoldRed},
		{scan.KindVulnerability, "VULNERABILITIES", sgrBold},
		{scan.KindHygiene, "HYGIENE", sgrBold},
		{"", "OTHER FINDINGS", sgrBold},
	}
	for _, sec := range sections {
		var gs []*group
		for _, g := range active {
			if g.kind == sec.kind || (sec.kind == "" && kindOrder(g.kind) == 3) {
				gs = append(gs, g)
			}
		}
		if len(gs) == 0 {
			continue
		}
		t.println("")
		t.println(t.style(sec.code, sec.title))
		for _, g := range gs {
			if err := ctx.Err(); err != nil {
				return err
			}
			t.group(g)
		}
	}
	t.ignoredGroups(ignored)
	t.unusedIgnores(r.UnusedIgnores)

	c := countResult(r)
	code := sgrGreen
	switch {
	case c.malware > 0:
		code = sgrBoldRed
	case c.vulns > 0 || c.failed > 0:
		code = sgrYellow
	}
	t.println("")
	for _, line := range wrapWords(summaryLine(c), "", "", t.opts.Width) {
		t.println(t.style(code, line))
	}
	return t.err
}

// header names the tool and the advisory data, so a pasted report says
// what it was checked against.
func (t *table) header(r *scan.Result) {
	head := "vigil"
	if t.opts.Version != "" {
		head += " " + sanitize(t.opts.Version)
	}
	db := r.Database
	if db.Source != "" || db.Records > 0 {
		var facts []string
		if db.Records > 0 {
			facts = append(facts, plural(db.Records, "record", "records"))
		}
		if !db.Built.IsZero() {
			facts = append(facts, "built "+db.Built.UTC().Format("2006-01-02"))
		}
		src := sanitize(db.Source)
		if src == "" {
			src = "advisory database"
		}
		head += " · advisories: " + src
		if len(facts) > 0 {
			head += " (" + strings.Join(facts, ", ") + ")"
		}
	}
	t.println(t.style(sgrBold, head))
}

// files lists every input with its detected format and package count; a file
// that failed is listed too, with its error, because its absence from the
// findings means nothing.
func (t *table) files(r *scan.Result) {
	if len(r.Files) == 0 {
		t.println("")
		t.println("No lockfiles found.")
		return
	}
	t.println("")
	tw := tabwriter.NewWriter(t, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  LOCKFILE\tFORMAT\tPACKAGES\tSTATUS")
	for i := range r.Files {
		f := &r.Files[i]
		format := sanitize(string(f.Format))
		if format == "" {
			format = "-"
		}
		count := fmt.Sprint(f.PackageCount)
		status := string(f.Status)
		switch f.Status {
		case scan.StatusError:
			count = "-"
			status = t.style(sgrRed, "failed (see below)")
		case scan.StatusEmpty:
			status = "empty (no packages)"
		case scan.StatusOK:
		default:
			status = sanitize(status)
		}
		if len(f.Workspaces) > 0 && f.Status != scan.StatusError {
			status += fmt.Sprintf(", %s", plural(len(f.Workspaces), "workspace", "workspaces"))
		}
		// The status is the last cell, so its colour codes do not upset
		// the column widths tabwriter computes.
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", sanitize(f.Path), format, count, status)
	}
	tw.Flush()
	for i := range r.Files {
		f := &r.Files[i]
		if f.Status != scan.StatusError {
			continue
		}
		for _, line := range wrapWords(sanitize(failureText(f)), "  ✗ ", "    ", t.opts.Width) {
			t.println(t.style(sgrRed, line))
		}
	}
}

func severityLabel(s scan.Severity) string { return strings.ToUpper(string(normSeverity(s))) }

func severityColor(s scan.Severity) string {
	switch normSeverity(s) {
	case scan.SeverityCritical, scan.SeverityHigh:
		return sgrRed
	case scan.SeverityMedium:
		return sgrYellow
	case scan.SeverityLow:
		return sgrCyan
	}
	return sgrDim
}

func (t *table) group(g *group) {
	t.println("")
	id, sev := sanitize(g.id), severityLabel(g.severity)
	lead := id + "  " + sev + "  "
	lines := wrapWords(sanitize(g.summary), lead, "    ", t.opts.Width)
	// Colour the id and label after wrapping, which counted plain text.
	lines[0] = t.style(sgrBold, id) + "  " + t.style(severityColor(g.severity), sev) + "  " + strings.TrimPrefix(lines[0], lead)
	for _, l := range lines {
		t.println(strings.TrimRight(l, " "))
	}
	if t.opts.Verbose {
		t.verboseDetails(g.occ[0].f)
	}
	// One fix for the whole group when every occurrence shares it (the
	// same malware in three lockfiles), else one per occurrence.
	shared := fixText(g.occ[0].f)
	for _, o := range g.occ[1:] {
		if fixText(o.f) != shared {
			shared = ""
			break
		}
	}
	for _, o := range g.occ {
		t.occurrence(g, o, shared == "")
	}
	if shared != "" {
		t.fix(shared, "  ")
	}
}

func (t *table) fix(fix, indent string) {
	for i, l := range wrapWords(sanitize(fix), indent+"Fix: ", indent+"     ", t.opts.Width) {
		if i == 0 {
			l = indent + t.style(sgrGreen, "Fix:") + strings.TrimPrefix(l, indent+"Fix:")
		}
		t.println(l)
	}
}

func (t *table) verboseDetails(f *scan.Finding) {
	if len(f.Aliases) > 0 {
		t.wrapped("Aliases: "+sanitize(strings.Join(f.Aliases, ", ")), "    ", "      ")
	}
	if d := strings.TrimSpace(f.Details); d != "" {
		t.wrapped(sanitize(d), "    ", "    ")
	}
	for _, ref := range f.References {
		t.println("    " + sanitize(ref))
	}
}

func (t *table) wrapped(text, first, rest string) {
	for _, line := range wrapWords(text, first, rest, t.opts.Width) {
		t.println(line)
	}
}

func (t *table) occurrence(g *group, o occurrence, withFix bool) {
	f := o.f
	pkg := sanitize(f.Package.String())
	line := "  " + t.style(sgrBold, pkg)
	if f.Dev {
		line += " (dev)"
	}
	// Repeat the severity only where it differs from the heading's (one
	// advisory can rate versions differently).
	if sev := normSeverity(f.Severity); sev != g.severity {
		line += " (" + string(sev) + ")"
	}
	line += "  " + sanitize(place(o))
	t.println(line)
	paths := f.Paths
	limit := t.opts.MaxPaths
	if t.opts.Verbose {
		limit = len(paths)
	}
	for i, p := range paths {
		if i == limit {
			t.println(t.style(sgrDim, fmt.Sprintf("    … %s", plural(len(paths)-limit, "more path", "more paths"))))
			break
		}
		for _, l := range wrapPath(sanitizePath(p), "    ", "      ", t.opts.Width) {
			t.println(l)
		}
	}
	if fix := fixText(f); withFix && fix != "" {
		t.fix(fix, "    ")
	}
}

func sanitizePath(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = sanitize(s)
	}
	return out
}

func (t *table) ignoredGroups(gs []*group) {
	if len(gs) == 0 {
		return
	}
	t.println("")
	t.println(t.style(sgrDim, "IGNORED by vigil.yaml (not failing the scan)"))
	for _, g := range gs {
		for _, o := range g.occ {
			line := fmt.Sprintf("  %s  %s  %s  %s", sanitize(g.id), string(normSeverity(o.f.Severity)), sanitize(o.f.Package.String()), sanitize(place(o)))
			if o.f.Dev {
				line += "  (dev)"
			}
			t.println(t.style(sgrDim, line))
			for _, l := range wrapWords("reason: "+sanitize(o.f.Ignored), "    ", "            ", t.opts.Width) {
				t.println(t.style(sgrDim, l))
			}
		}
	}
}

func (t *table) unusedIgnores(ids []string) {
	if len(ids) == 0 {
		return
	}
	t.println("")
	t.println(t.style(sgrYellow, "UNUSED IGNORES in vigil.yaml — remove or renew them"))
	for _, id := range ids {
		t.println("  " + sanitize(id))
	}
}

// wrapWords breaks text into lines of at most width runes, starting the
// first line with first and the others with rest. A word longer than a line
// gets a line of its own rather than being cut, so URLs stay clickable.
func wrapWords(text, first, rest string, width int) []string {
	words := strings.Fields(text)
	var lines []string
	line, prefix := first, first
	n := utf8.RuneCountInString(line)
	for _, w := range words {
		wn := utf8.RuneCountInString(w)
		if line != prefix && n+1+wn > width {
			lines = append(lines, line)
			line, prefix = rest, rest
			n = utf8.RuneCountInString(line)
		}
		if line != prefix {
			line += " "
			n++
		}
		line += w
		n += wn
	}
	return append(lines, line)
}

// wrapPath lays a dependency path over as many lines as it needs, breaking
// only between packages so each name@version stays whole.
func wrapPath(path []string, first, rest string, width int) []string {
	if len(path) == 0 {
		return nil
	}
	var lines []string
	line := first + path[0]
	n := utf8.RuneCountInString(line)
	for _, el := range path[1:] {
		seg := " › " + el
		sn := utf8.RuneCountInString(seg)
		if n+sn > width {
			lines = append(lines, line)
			line = rest + "› " + el
			n = utf8.RuneCountInString(line)
			continue
		}
		line += seg
		n += sn
	}
	return append(lines, line)
}
