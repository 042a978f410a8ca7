package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/vigil-sec/vigil/internal/scan"
)

// markdownHandler writes a report sized for a pull-request comment: a
// summary table first, then one short section per finding with the
// dependency paths folded away.
//
// Everything that comes from a lockfile or an advisory is untrusted: it is
// escaped so that it cannot inject HTML, links, images or @mentions into
// the comment.
type markdownHandler struct {
	w    io.Writer
	opts Options
}

func (h *markdownHandler) Write(ctx context.Context, r *scan.Result) error {
	if r == nil {
		return errors.New("report: nil result")
	}
	active, ignored, err := groupFindings(ctx, r)
	if err != nil {
		return err
	}
	c := countResult(r)
	w := &errWriter{w: h.w}

	icon := "✅"
	switch {
	case c.malware > 0:
		icon = "🚨"
	case c.vulns > 0 || c.failed > 0:
		icon = "⚠️"
	}
	w.println("## " + icon + " Vigil scan")
	w.println("")
	w.println(mdText(summaryLine(c)))
	w.println("")

	if len(r.Files) > 0 {
		w.println("| Lockfile | Format | Packages | Malware | Vulnerabilities |")
		w.println("| --- | --- | ---: | ---: | ---: |")
		for i := range r.Files {
			f := &r.Files[i]
			format := mdText(string(f.Format)) // mdText escapes the pipe that would end the cell
			if format == "" {
				format = "—"
			}
			packages, malware, vulns := fmt.Sprint(f.PackageCount), fmt.Sprint(c.fileMalware[f]), fmt.Sprint(c.fileVulns[f])
			switch f.Status {
			case scan.StatusError:
				packages, malware, vulns = "not read", "—", "—"
			case scan.StatusEmpty:
				packages = "0 (empty)"
			}
			w.printf("| %s | %s | %s | %s | %s |\n", mdCode(f.Path, true), format, packages, malware, vulns)
		}
		w.println("")
	}
	for i := range r.Files {
		f := &r.Files[i]
		if f.Status != scan.StatusError {
			continue
		}
		w.println("> [!WARNING]")
		w.println("> " + mdText(failureText(f)))
		w.println("")
	}

	sections := []struct {
		kind  scan.Kind
		title string
	}{
		{scan.KindMalware, "🚨 Malware — remove now"},
		{scan.KindVulnerability, "Vulnerabilities"},
		{scan.KindHygiene, "Hygiene"},
		{"", "Other findings"},
	}
	for _, sec := range sections {
		first := true
		for _, g := range active {
			if g.kind != sec.kind && (sec.kind != "" || kindOrder(g.kind) != 3) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if first {
				w.println("### " + sec.title)
				w.println("")
				first = false
			}
			h.group(w, g)
		}
	}

	if len(ignored) > 0 {
		n := 0
		for _, g := range ignored {
			n += len(g.occ)
		}
		w.printf("<details><summary>%s ignored by vigil.yaml</summary>\n\n", plural(n, "finding", "findings"))
		for _, g := range ignored {
			for _, o := range g.occ {
				w.printf("- %s %s in %s (%s): %s\n", mdCode(g.id, false), mdCode(o.f.Package.String(), false),
					mdCode(place(o), false), normSeverity(o.f.Severity), mdText(o.f.Ignored))
			}
		}
		w.println("")
		w.println("</details>")
		w.println("")
	}
	if len(r.UnusedIgnores) > 0 {
		w.println("**Unused ignores in vigil.yaml** — remove or renew them:")
		w.println("")
		for _, ig := range r.UnusedIgnores {
			w.println("- " + mdText(ig))
		}
		w.println("")
	}

	footer := "vigil"
	if h.opts.Version != "" {
		footer += " " + mdText(h.opts.Version)
	}
	if db := r.Database; db.Source != "" || db.Records > 0 {
		footer += " · advisories: " + mdText(db.Source)
		if db.Records > 0 {
			footer += " (" + plural(db.Records, "record", "records") + ")"
		}
	}
	w.println("<sub>" + footer + "</sub>")
	return w.err
}

func (h *markdownHandler) group(w *errWriter, g *group) {
	id := mdText(g.id)
	if u := advisoryURL(g.id, g.kind, g.occ[0].f.References); u != "" {
		id = "[" + id + "](" + mdURL(u) + ")"
	}
	w.printf("#### %s · %s · %s\n\n", id, normSeverity(g.severity), mdText(oneLine(g.summary)))
	if h.opts.Verbose {
		f := g.occ[0].f
		if len(f.Aliases) > 0 {
			w.println("Aliases: " + mdText(strings.Join(f.Aliases, ", ")))
			w.println("")
		}
		if d := strings.TrimSpace(f.Details); d != "" {
			// Advisory details are Markdown written by strangers: shown as
			// escaped text, paragraph by paragraph, never rendered.
			w.println("<details><summary>Advisory details</summary>")
			w.println("")
			for _, para := range strings.Split(strings.ReplaceAll(d, "\r\n", "\n"), "\n\n") {
				if p := strings.TrimSpace(para); p != "" {
					w.println(mdText(oneLine(p)))
					w.println("")
				}
			}
			w.println("</details>")
			w.println("")
		}
	}
	shared := fixText(g.occ[0].f)
	for _, o := range g.occ[1:] {
		if fixText(o.f) != shared {
			shared = ""
			break
		}
	}
	for _, o := range g.occ {
		f := o.f
		line := "**" + mdCode(f.Package.String(), false) + "** in " + mdCode(place(o), false)
		if f.Dev {
			line += " · dev"
		}
		if sev := normSeverity(f.Severity); sev != g.severity {
			line += " · " + string(sev)
		}
		if fix := fixText(f); shared == "" && fix != "" {
			w.println(line + "  ")
			w.println("**Fix:** " + mdText(fix))
		} else {
			w.println(line)
		}
		w.println("")
		paths := f.Paths
		limit := h.opts.MaxPaths
		if h.opts.Verbose {
			limit = len(paths)
		}
		if len(paths) > 0 {
			w.printf("<details><summary>%s</summary>\n\n", plural(len(paths), "dependency path", "dependency paths"))
			for i, p := range paths {
				if i == limit {
					w.printf("- … %s\n", plural(len(paths)-limit, "more path", "more paths"))
					break
				}
				w.println("- " + mdCode(formatPath(p), false))
			}
			w.println("")
			w.println("</details>")
			w.println("")
		}
	}
	if shared != "" {
		w.println("**Fix:** " + mdText(shared))
		w.println("")
	}
}

// mdText escapes untrusted text for Markdown prose on one line: HTML is
// neutralised with entities, Markdown punctuation with backslashes, and @
// gets a zero-width space so "@scope/pkg" does not notify a GitHub user.
func mdText(s string) string {
	s = oneLine(sanitize(s))
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '@':
			b.WriteRune(r)
			// Only an @ that does not follow a letter or digit starts a
			// mention; "git@github.com" and "debug@4.4.2" stay copyable.
			if !unicode.IsLetter(prev) && !unicode.IsDigit(prev) {
				b.WriteString("&#8203;")
			}
		// Escaping [ ] is enough to stop links and images; * _ ~ ` stop
		// emphasis and code; | would end a table cell; # an issue link.
		case '\\', '`', '*', '_', '[', ']', '#', '|', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// mdCode wraps untrusted text in a code span, which shows it literally:
// the fence is longer than any backtick run inside. In a table cell a pipe
// would still end the cell, so it is escaped there (GFM unescapes it).
func mdCode(s string, inTable bool) string {
	s = oneLine(sanitize(s))
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdURL makes a URL safe inside Markdown link parentheses.
func mdURL(u string) string {
	r := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E")
	return r.Replace(u)
}

// advisoryURL links an advisory id to its osv.dev page, the record itself;
// Vigil's own rules fall back to their first reference, if any.
func advisoryURL(id string, kind scan.Kind, refs []string) string {
	if kind == scan.KindHygiene || strings.HasPrefix(id, "VGL-") || id == "" {
		return helpURI(id, kind, refs)
	}
	return osvURL(id)
}
