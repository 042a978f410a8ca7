package diff

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/tarball"
)

const corpusDir = "../../../shared/corpus"

// corpusPair is one row of malicious/INDEX.tsv: a compromised release and
// the clean release before it.
type corpusPair struct {
	name, clean, malicious string
	payloadFiles           []string
}

func corpusPairs(t *testing.T) []corpusPair {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "malicious", "INDEX.tsv"))
	if os.IsNotExist(err) {
		t.Skipf("%s not present: the corpus check needs the shared evaluation corpus", corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = '\t'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("INDEX.tsv: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var out []corpusPair
	for _, row := range rows[1:] {
		out = append(out, corpusPair{
			name: row[col["name"]], malicious: row[col["version"]], clean: row[col["clean_neighbour_version"]],
			payloadFiles: strings.Split(row[col["malicious_files"]], ","),
		})
	}
	return out
}

// readCorpusSide reads a corpus tarball in memory only, with
// tarball.Read: the malicious ones are live malware.
func readCorpusSide(t *testing.T, dir, name, version string) Side {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, dir, name+"@"+version+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	arc, err := tarball.Read(context.Background(), bytes.NewReader(data), tarball.Limits{})
	if err != nil {
		t.Fatalf("%s@%s: %v", name, version, err)
	}
	return FromArchive(arc, name, version, "")
}

// corpusManifestExtra is what else really differs in package.json between
// each clean release and the compromised one, besides version: the
// attacker republished with a newer npm, whose normalisation adds
// "main": "index.js" where the package had none (all but debug) — the
// only watched field — and, unwatched, bugs and homepage, repository as an
// object, author as a string, and types.
var corpusManifestExtra = map[string][]string{
	"ansi-styles":    {"main"},
	"debug":          nil,
	"error-ex":       {"main"},
	"simple-swizzle": {"main"},
	"slice-ansi":     {"main"},
	"strip-ansi":     {"main"},
	"wrap-ansi":      {"main"},
}

// TestCorpusInjectedCode: for each compromised release of the September
// 2025 chalk/debug attack, the diff against the release before must show
// exactly the injected code: only the payload file changed among code
// files, and its hunks carry the injected lines.
func TestCorpusInjectedCode(t *testing.T) {
	for _, pair := range corpusPairs(t) {
		t.Run(pair.name, func(t *testing.T) {
			a := readCorpusSide(t, "clean", pair.name, pair.clean)
			b := readCorpusSide(t, "malicious", pair.name, pair.malicious)
			d, err := Compare(context.Background(), a, b, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var code []string
			for _, c := range d.Files.Changed {
				if c.Class == ClassCode {
					code = append(code, c.Path)
				}
			}
			for _, f := range append(d.Files.Added, d.Files.Removed...) {
				if f.Class == ClassCode {
					code = append(code, f.Path)
				}
			}
			sort.Strings(code)
			if !slices.Equal(code, pair.payloadFiles) {
				t.Fatalf("changed code files %v, want exactly the payload files %v", code, pair.payloadFiles)
			}
			var watched []string
			for _, c := range d.Manifest.Changes {
				if c.Watched && c.Field != "version" {
					watched = append(watched, c.Field)
				}
			}
			if !slices.Equal(watched, corpusManifestExtra[pair.name]) {
				t.Errorf("watched package.json fields changed besides version: %v, want %v", watched, corpusManifestExtra[pair.name])
			}
			if !hasChange(d.Manifest.Changes, "version", pair.clean, pair.malicious) {
				t.Errorf("package.json version change %s → %s not reported: %+v", pair.clean, pair.malicious, d.Manifest.Changes)
			}
			for _, p := range pair.payloadFiles {
				checkInjected(t, a, b, d, p)
			}
			var others []string
			for _, c := range d.Manifest.Changes {
				if !c.Watched {
					others = append(others, c.Field)
				}
			}
			t.Logf("%s@%s → %s: %d changed, %d unchanged; package.json: version %s→%s, also %v (watched: %v); verdict %s (%d) → %s (%d); new findings %d; appeared %v",
				pair.name, pair.clean, pair.malicious, len(d.Files.Changed), d.Files.Unchanged, pair.clean, pair.malicious,
				others, watched, d.A.Verdict, d.A.Score, d.B.Verdict, d.B.Score, len(d.NewFindings), capNames(d.Capabilities.Appeared))
		})
	}
}

func hasChange(cs []ManifestChange, field, old, new string) bool {
	for _, c := range cs {
		if c.Field == field && c.Old == old && c.New == new {
			return true
		}
	}
	return false
}

func capNames(cs []Capability) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// checkInjected finds the lines of the payload file that B has and A has
// not (without the diff machinery) and checks the hunks show exactly
// those as added, the long payload line cut to a window that starts it.
func checkInjected(t *testing.T, a, b Side, d *Diff, path string) {
	t.Helper()
	var fa, fb []byte
	for _, f := range a.Files {
		if f.Path == path {
			fa = f.Data
		}
	}
	for _, f := range b.Files {
		if f.Path == path {
			fb = f.Data
		}
	}
	inA := map[string]int{}
	for _, l := range strings.Split(string(fa), "\n") {
		inA[l]++
	}
	var injected []string
	for _, l := range strings.Split(string(fb), "\n") {
		if inA[l] > 0 {
			inA[l]--
			continue
		}
		injected = append(injected, l)
	}
	var fc *FileChange
	for i := range d.Files.Changed {
		if d.Files.Changed[i].Path == path {
			fc = &d.Files.Changed[i]
		}
	}
	if fc == nil || fc.Text == nil {
		t.Fatalf("%s: no text diff", path)
	}
	var plus []Line
	for _, h := range fc.Text.Hunks {
		for _, l := range h.Lines {
			if l.Op == "+" {
				plus = append(plus, l)
			}
		}
	}
	// Compare as multisets: which of several identical blank lines the
	// matcher calls "added" is its choice.
	byLen := func(x, y string) int { return len(x) - len(y) }
	slices.SortStableFunc(injected, byLen)
	slices.SortStableFunc(plus, func(x, y Line) int { return x.Len - y.Len })
	if len(plus) != len(injected) || fc.Text.Added != len(injected) {
		t.Fatalf("%s: hunks add %d lines (counted %d), the file gained %d", path, len(plus), fc.Text.Added, len(injected))
	}
	longest := 0
	for i, l := range plus {
		if l.Len != len(injected[i]) {
			t.Errorf("%s: added line %d is %d bytes in the hunk, %d in the file", path, i, l.Len, len(injected[i]))
		}
		want := injected[i][l.From:min(len(injected[i]), l.From+DefaultLineWindow)]
		if l.Text != rules.Sanitize(want, DefaultLineWindow) {
			t.Errorf("%s: added line %d shows %.80q, want the start of the injected line %.80q", path, i, l.Text, want)
		}
		longest = max(longest, l.Len)
	}
	if longest < 50_000 {
		t.Errorf("%s: the longest added line is %d bytes; the payload is one line of about 76 KB", path, longest)
	}
	r := fc.Text.Region
	t.Logf("%s: %d → %d bytes (%+d); +%d -%d lines; region: offset %d (line %d, col %d), %d bytes of A replaced by %d; hunks %d (@@ -%d,%d +%d,%d @@); longest added line %d bytes",
		path, fc.SizeA, fc.SizeB, fc.Delta, fc.Text.Added, fc.Text.Removed, r.Offset, r.Line, r.Col, r.LenA, r.LenB,
		len(fc.Text.Hunks), fc.Text.Hunks[0].OldStart, fc.Text.Hunks[0].OldLines, fc.Text.Hunks[0].NewStart, fc.Text.Hunks[0].NewLines, longest)
}
