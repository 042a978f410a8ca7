package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// writeAnalyzeTable prints one block per target named on the command line
// and per dependency that is not clean (or could not be read); clean
// dependencies are only counted, since a project has thousands. JSON and
// SARIF carry every entry. Everything that came from a package or a
// lockfile (names, paths, messages, evidence) is sanitised.
func writeAnalyzeTable(w io.Writer, run *AnalyzeRun, opts Options) error {
	var b strings.Builder
	blocks := 0
	for i := range run.Results {
		r := &run.Results[i]
		if r.Kind == AnalyzeKindDependency && r.Report != nil && r.Verdict == analyze.Clean {
			continue
		}
		if blocks > 0 {
			b.WriteString("\n")
		}
		blocks++
		writeAnalyzeBlock(&b, r, opts)
	}
	if len(run.Projects) > 0 {
		if blocks > 0 {
			b.WriteString("\n")
		}
		writeAnalyzeSummary(&b, run)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAnalyzeBlock(b *strings.Builder, r *AnalyzeResult, opts Options) {
	if r.Report == nil {
		fmt.Fprintf(b, "%s  ERROR  (counts as suspicious)\n  %s\n", rules.Sanitize(r.Target, 200), r.Error)
		writeAnalyzeOrigin(b, r, opts)
		return
	}
	id := rules.Sanitize(r.Package, 214) + "@" + rules.Sanitize(r.Version, 64)
	if r.Package == "" {
		id = rules.Sanitize(r.Target, 200)
	}
	fmt.Fprintf(b, "%s  %s  score %d\n", id, strings.ToUpper(string(r.Verdict)), r.Score)
	if r.Kind != AnalyzeKindDependency {
		fmt.Fprintf(b, "  target: %s (%s)\n", rules.Sanitize(r.Target, 200), r.Kind)
	}
	writeAnalyzeOrigin(b, r, opts)
	if fi := r.Fetch; fi != nil {
		fmt.Fprintf(b, "  fetched: %s\n", rules.Sanitize(fi.TarballURL, 300))
		if fi.Unlisted {
			b.WriteString("  WARNING: UNVERIFIED — " + fi.Note + "\n")
		} else {
			b.WriteString("  " + fi.Note + "\n")
		}
	}
	if r.Integrity != "" {
		fmt.Fprintf(b, "  integrity: %s\n", rules.Sanitize(r.Integrity, 200))
	}
	writeAnalyzePrevious(b, r.Previous)
	st := r.Stats
	fmt.Fprintf(b, "  read: %d files (%d bytes), %d JavaScript (%d bytes)", st.Files, st.Bytes, st.JSFiles, st.JSBytes)
	if n := len(st.ParseFailures); n > 0 {
		fmt.Fprintf(b, ", %d parse failures", n)
	}
	if n := len(r.NotLoaded); n > 0 {
		fmt.Fprintf(b, ", %d too large to analyse", n)
	}
	b.WriteString("\n")
	for _, wn := range r.Warnings {
		fmt.Fprintf(b, "  tarball warning: %s\n", rules.Sanitize(wn, 300))
	}
	if len(r.Findings) == 0 {
		b.WriteString("  no findings\n")
		return
	}
	var sev rules.Severity
	for j, fd := range r.Findings {
		if j == 0 || fd.Severity != sev {
			sev = fd.Severity
			fmt.Fprintf(b, "  %s\n", strings.ToUpper(string(sev)))
		}
		fmt.Fprintf(b, "    %s %s  %s  %s\n", fd.Rule, fd.Name, findingLocation(fd), rules.Sanitize(fd.Message, 300))
		if fd.Evidence != "" {
			fmt.Fprintf(b, "      | %s\n", rules.Sanitize(fd.Evidence, 120))
		}
	}
	b.WriteString("  score:\n")
	for _, rs := range r.Reasons {
		src := rs.Source
		if rs.File != "" {
			src += " (" + rules.Sanitize(rs.File, 200) + ")"
		}
		fmt.Fprintf(b, "    %+4d  %s: %s\n", rs.Points, src, rules.Sanitize(rs.Why, 300))
	}
}

// writeAnalyzeOrigin says, for a dependency, which project brought it,
// through which dependencies and where its bytes came from.
func writeAnalyzeOrigin(b *strings.Builder, r *AnalyzeResult, opts Options) {
	if r.Kind != AnalyzeKindDependency {
		return
	}
	fmt.Fprintf(b, "  project: %s\n", rules.Sanitize(r.Project, 300))
	max := opts.MaxPaths
	if max <= 0 {
		max = DefaultMaxPaths
	}
	for i, p := range r.Paths {
		if i == max {
			fmt.Fprintf(b, "  … and %s\n", plural(len(r.Paths)-max, "more path", "more paths"))
			break
		}
		parts := make([]string, len(p))
		for j, s := range p {
			parts[j] = rules.Sanitize(s, 240)
		}
		fmt.Fprintf(b, "  path: %s\n", strings.Join(parts, " › "))
	}
	if r.Source != "" {
		src := r.Source
		if r.Location != "" && r.Fetch == nil { // a fetch prints its URL itself
			src += " " + rules.Sanitize(r.Location, 300)
		}
		if r.Cached {
			src += " (verdict from the cache)"
		}
		fmt.Fprintf(b, "  source: %s\n", src)
	}
}

func writeAnalyzeSummary(b *strings.Builder, run *AnalyzeRun) {
	s := Summarize(run)
	fmt.Fprintf(b, "summary: %s analysed — %d clean, %d suspicious, %d malicious; %s",
		plural(s.Analysed, "package", "packages"), s.Clean, s.Suspicious, s.Malicious, plural(s.Errors, "error", "errors"))
	if s.Errors > 0 {
		b.WriteString(" (counted as suspicious)")
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "  verdict cache: %d of %d served from the cache\n", s.CacheHits, s.Reports)
	var sources []string
	for _, src := range []string{SourceNodeModules, SourceNPMCache, SourceRegistry, SourceVerdictCache, SourceFile, SourceFolder} {
		if n := s.Sources[src]; n > 0 {
			sources = append(sources, fmt.Sprintf("%s %d", src, n))
		}
	}
	if len(sources) > 0 {
		fmt.Fprintf(b, "  sources: %s\n", strings.Join(sources, ", "))
	}
	for _, p := range run.Projects {
		fmt.Fprintf(b, "  project %s", rules.Sanitize(p.Path, 300))
		if p.Format != "" {
			fmt.Fprintf(b, " (%s)", p.Format)
		}
		if p.Error != "" {
			fmt.Fprintf(b, ": ERROR %s\n", p.Error)
			continue
		}
		fmt.Fprintf(b, ": %s", plural(p.Packages, "package", "packages"))
		if p.Installed > 0 {
			fmt.Fprintf(b, " (%d read from node_modules)", p.Installed)
		}
		skipped := 0
		var why []string
		for _, reason := range []string{"workspace", "link", "file", "patch", "bundled"} {
			if n := p.Skipped[reason]; n > 0 {
				skipped += n
				why = append(why, fmt.Sprintf("%s %d", reason, n))
			}
		}
		if skipped > 0 {
			fmt.Fprintf(b, ", %d skipped (%s)", skipped, strings.Join(why, ", "))
		}
		b.WriteString("\n")
	}
}

func findingLocation(fd analyze.Finding) string {
	if fd.File == "" {
		return "-"
	}
	loc := rules.Sanitize(fd.File, 200)
	if fd.Line > 0 {
		loc += fmt.Sprintf(":%d:%d", fd.Line, fd.Col)
	}
	return loc
}

// writeAnalyzePrevious prints what --against-previous compared and added.
func writeAnalyzePrevious(b *strings.Builder, p *AnalyzePrevious) {
	switch {
	case p == nil:
		return
	case p.Error != "":
		fmt.Fprintf(b, "  against previous release: could not compare: %s\n", rules.Sanitize(p.Error, 300))
		return
	case p.Note != "":
		fmt.Fprintf(b, "  against previous release: %s\n", rules.Sanitize(p.Note, 300))
		return
	}
	fmt.Fprintf(b, "  against previous release %s: %d new findings, score %d before history\n",
		rules.Sanitize(p.Version, 64), p.NewFindings, p.ScoreBefore)
	for _, s := range p.Signals {
		fmt.Fprintf(b, "    registry: %s\n", rules.Sanitize(s, 300))
	}
}
