// Package report turns one scan.Result into the formats people and tools
// read: a terminal table, versioned JSON, SARIF 2.1.0 for code-scanning
// dashboards and Markdown for pull-request comments.
//
// Every format is a Handler over the same Result, in the manner of
// govulncheck's handlers: the scan decides what was found, a handler only
// decides how it looks. Handlers never filter findings away — ignored
// findings, failed files and unused ignores appear in every format — so the
// formats cannot disagree about what a scan found.
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/scan"
)

// Handler writes one scan result in one format.
type Handler interface {
	Write(ctx context.Context, r *scan.Result) error
}

// Options tune the output. The zero value is valid.
type Options struct {
	// Color adds ANSI colours to the table format; the caller decides (TTY,
	// NO_COLOR), never the handler.
	Color bool
	// Version is the tool version written into JSON and SARIF output.
	Version string
	// MaxPaths caps the dependency paths shown per finding in the table and
	// Markdown formats (0 means DefaultMaxPaths). JSON and SARIF carry every
	// path the scan produced.
	MaxPaths int
	// Verbose adds advisory details, aliases and references to the table
	// and Markdown formats and shows every path.
	Verbose bool
	// BaseDir, when set, makes SARIF artifact URIs relative to it (the
	// repository root, so code-scanning services can link to the file).
	BaseDir string
	// Width is the table's line width for wrapping (0 means DefaultWidth).
	// It is a parameter rather than a terminal query so output is the same
	// in CI logs, pipes and tests.
	Width int
}

const (
	DefaultMaxPaths = 3
	DefaultWidth    = 100
	// minWidth keeps wrapping sane when a caller passes a tiny terminal.
	minWidth = 40
)

// ErrUnknownFormat is returned by New for a format it does not know.
var ErrUnknownFormat = errors.New("unknown report format")

// Formats lists the names New accepts, in the order help text shows them.
func Formats() []string { return []string{"table", "json", "sarif", "markdown"} }

// New returns the handler for format ("table", "json", "sarif" or
// "markdown"), writing to w.
func New(format string, w io.Writer, opts Options) (Handler, error) {
	if w == nil {
		return nil, errors.New("report: nil writer")
	}
	if opts.MaxPaths <= 0 {
		opts.MaxPaths = DefaultMaxPaths
	}
	if opts.Width <= 0 {
		opts.Width = DefaultWidth
	}
	opts.Width = max(opts.Width, minWidth)
	switch format {
	case "table":
		return &tableHandler{w: w, opts: opts}, nil
	case "json":
		return &jsonHandler{w: w, opts: opts}, nil
	case "sarif":
		return &sarifHandler{w: w, opts: opts}, nil
	case "markdown":
		return &markdownHandler{w: w, opts: opts}, nil
	}
	return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// occurrence is one finding in one file.
type occurrence struct {
	fileIndex int // position in Result.Files, to keep the scan's file order
	file      *scan.FileResult
	f         *scan.Finding
}

// group gathers every occurrence of one advisory or rule id, so that a
// compromised package present in three lockfiles is reported once with
// three places rather than three times.
type group struct {
	id       string
	kind     scan.Kind
	severity scan.Severity // the highest among occurrences
	summary  string
	ignored  bool
	occ      []occurrence
}

// kindOrder puts malware first: it needs action now, not at the next
// upgrade.
func kindOrder(k scan.Kind) int {
	switch k {
	case scan.KindMalware:
		return 0
	case scan.KindVulnerability:
		return 1
	case scan.KindHygiene:
		return 2
	}
	return 3
}

// groupFindings splits the result's findings into active and ignored groups,
// each sorted malware, vulnerabilities (most severe first), hygiene, then by
// id. An id ignored in one lockfile but not another lands in both lists.
func groupFindings(ctx context.Context, r *scan.Result) (active, ignored []*group, err error) {
	// The kind is part of the key because one id can carry two kinds:
	// VGL-BLOCK is malware for a critical blocklist entry and a
	// vulnerability for a lesser one.
	type key struct {
		id      string
		kind    scan.Kind
		ignored bool
	}
	byKey := map[key]*group{}
	var order []*group
	for fi := range r.Files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		file := &r.Files[fi]
		for i := range file.Findings {
			f := &file.Findings[i]
			k := key{f.ID, f.Kind, f.Ignored != ""}
			g := byKey[k]
			if g == nil {
				g = &group{id: f.ID, kind: f.Kind, severity: normSeverity(f.Severity), summary: f.Summary, ignored: k.ignored}
				byKey[k] = g
				order = append(order, g)
			}
			if f.Severity.Rank() > g.severity.Rank() {
				g.severity = f.Severity
			}
			if g.summary == "" {
				g.summary = f.Summary
			}
			g.occ = append(g.occ, occurrence{fileIndex: fi, file: file, f: f})
		}
	}
	for _, g := range order {
		// Files keep the scan's order; within a file, sort by package.
		slices.SortStableFunc(g.occ, func(a, b occurrence) int {
			if c := cmp.Compare(a.fileIndex, b.fileIndex); c != 0 {
				return c
			}
			if c := cmp.Compare(a.f.Package.Name, b.f.Package.Name); c != 0 {
				return c
			}
			return cmp.Compare(a.f.Package.Version, b.f.Package.Version)
		})
		if g.ignored {
			ignored = append(ignored, g)
		} else {
			active = append(active, g)
		}
	}
	sortGroups(active)
	sortGroups(ignored)
	return active, ignored, nil
}

func sortGroups(gs []*group) {
	slices.SortStableFunc(gs, func(a, b *group) int {
		if c := cmp.Compare(kindOrder(a.kind), kindOrder(b.kind)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.severity.Rank(), a.severity.Rank()); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
}

// counts are the numbers every format's summary states.
type counts struct {
	files       int // all files
	read        int // ok or empty
	failed      int
	packages    int // sum of per-file distinct packages
	malware     int // active findings by kind
	vulns       int
	hygiene     int
	other       int
	ignored     int
	vulnsBySev  map[scan.Severity]int
	fileMalware map[*scan.FileResult]int
	fileVulns   map[*scan.FileResult]int
}

func countResult(r *scan.Result) counts {
	c := counts{
		files:       len(r.Files),
		vulnsBySev:  map[scan.Severity]int{},
		fileMalware: map[*scan.FileResult]int{},
		fileVulns:   map[*scan.FileResult]int{},
	}
	for fi := range r.Files {
		file := &r.Files[fi]
		if file.Status == scan.StatusError {
			c.failed++
		} else {
			c.read++
		}
		c.packages += file.PackageCount
		for i := range file.Findings {
			f := &file.Findings[i]
			if f.Ignored != "" {
				c.ignored++
				continue
			}
			switch f.Kind {
			case scan.KindMalware:
				c.malware++
				c.fileMalware[file]++
			case scan.KindVulnerability:
				c.vulns++
				c.vulnsBySev[normSeverity(f.Severity)]++
				c.fileVulns[file]++
			case scan.KindHygiene:
				c.hygiene++
			default:
				c.other++
			}
		}
	}
	return c
}

// normSeverity maps anything unrecognised (including "") to unknown so that
// every format shows and counts it the same way.
func normSeverity(s scan.Severity) scan.Severity {
	if s.Rank() == 0 {
		return scan.SeverityUnknown
	}
	return s
}

var severitiesDesc = []scan.Severity{scan.SeverityCritical, scan.SeverityHigh, scan.SeverityMedium, scan.SeverityLow, scan.SeverityUnknown}

// summaryLine is the one sentence every human format ends with.
func summaryLine(c counts) string {
	var b strings.Builder
	across := fmt.Sprintf("%s across %s", plural(c.packages, "package", "packages"), plural(c.read, "lockfile", "lockfiles"))
	if c.malware == 0 && c.vulns == 0 {
		b.WriteString("No known malware or vulnerabilities in " + across)
		if c.hygiene > 0 {
			b.WriteString("; " + plural(c.hygiene, "hygiene finding", "hygiene findings"))
		}
	} else {
		var parts []string
		if c.malware > 0 {
			parts = append(parts, plural(c.malware, "malware finding", "malware findings"))
		}
		if c.vulns > 0 {
			var sev []string
			for _, s := range severitiesDesc {
				if n := c.vulnsBySev[s]; n > 0 {
					sev = append(sev, fmt.Sprintf("%d %s", n, s))
				}
			}
			parts = append(parts, plural(c.vulns, "vulnerability", "vulnerabilities")+" ("+strings.Join(sev, ", ")+")")
		}
		if c.hygiene > 0 {
			parts = append(parts, plural(c.hygiene, "hygiene finding", "hygiene findings"))
		}
		b.WriteString("Found " + joinAnd(parts) + " in " + across)
	}
	if c.other > 0 {
		b.WriteString("; " + plural(c.other, "other finding", "other findings"))
	}
	if c.ignored > 0 {
		b.WriteString("; " + fmt.Sprintf("%d ignored", c.ignored))
	}
	b.WriteString(".")
	if c.failed > 0 {
		fmt.Fprintf(&b, " %s could not be read: results are partial.", plural(c.failed, "lockfile", "lockfiles"))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// formatPath renders a dependency path the way people read it:
// (root) › express@4.18.2 › debug@2.6.9.
func formatPath(p []string) string { return strings.Join(p, " › ") }

// fileOf is where a finding was declared: its own location when the scan
// knows it, else the lockfile it came from.
func fileOf(o occurrence) string {
	if o.f.Location.File != "" {
		return o.f.Location.File
	}
	return o.file.Path
}

// place is "lockfile:line" (or just the lockfile when the line is unknown).
func place(o occurrence) string {
	if o.f.Location.Line > 0 {
		return fmt.Sprintf("%s:%d", fileOf(o), o.f.Location.Line)
	}
	return fileOf(o)
}

// failureText explains a file that could not be read. Parse errors
// already start with the path; other errors get it added.
func failureText(f *scan.FileResult) string {
	msg := f.Error
	if msg == "" {
		msg = "unknown error"
	}
	if !strings.HasPrefix(msg, f.Path) {
		msg = f.Path + ": " + msg
	}
	return msg + " — its packages were not checked"
}

// fixText says what to do about a finding, preferring the advisory's or
// rule's own words and naming the safe version when it adds information.
func fixText(f *scan.Finding) string {
	name := f.Package.Name
	switch {
	case f.Remediation != "":
		if f.SafeVersion != "" && !strings.Contains(f.Remediation, f.SafeVersion) {
			return f.Remediation + " (safe version: " + f.SafeVersion + ")"
		}
		return f.Remediation
	case f.SafeVersion != "" && f.Kind == scan.KindMalware:
		return "remove " + f.Package.String() + " and pin " + name + " to " + f.SafeVersion
	case f.SafeVersion != "":
		return "upgrade " + name + " to " + f.SafeVersion
	case len(f.FixedVersions) > 0:
		return "upgrade " + name + " to a fixed version: " + strings.Join(f.FixedVersions, ", ")
	case f.Kind == scan.KindMalware:
		return "remove " + name + "; no safe version is known"
	case f.Kind == scan.KindVulnerability:
		return "no fixed version is known"
	}
	return ""
}

// sanitize makes untrusted text (package names and summaries come from
// lockfiles and advisories) safe to print on one line: control characters
// (including the ESC that starts terminal escape sequences), bidirectional
// overrides that could make one name look like another, and invalid UTF-8
// become visible \x or \u escapes, and line breaks become spaces.
func sanitize(s string) string {
	if !needsSanitize(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// An invalid UTF-8 byte: show it rather than let the terminal
			// guess.
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsSanitize(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// errWriter remembers the first write error so that formatting code can
// stay linear and the handler still reports a broken pipe or full disk.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
func (e *errWriter) println(s string)                  { io.WriteString(e, s+"\n") }
