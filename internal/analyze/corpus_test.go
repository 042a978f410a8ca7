package analyze

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/tarball"
)

// corpusDir is ../shared/corpus seen from the repository root; tests run
// in internal/analyze.
const corpusDir = "../../../shared/corpus"

func readTarball(t *testing.T, path string) Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Read as data only, in memory: never extracted, never run.
	a, err := tarball.Read(context.Background(), f, tarball.DefaultLimits())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name, version, _ := strings.Cut(strings.TrimSuffix(filepath.Base(path), ".tgz"), "@")
	return FromArchive(a, name, version, "")
}

// malwareFiles reads INDEX.tsv: tarball name → the file carrying the
// payload.
func malwareFiles(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join(corpusDir, "malicious", "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	var cols []string
	for sc.Scan() {
		row := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = row
			continue
		}
		rec := map[string]string{}
		for i, c := range cols {
			if i < len(row) {
				rec[c] = row[i]
			}
		}
		out[rec["name"]+"@"+rec["version"]+".tgz"] = rec["malicious_files"]
	}
	return out
}

// TestCorpusVerdicts evaluates the engine on the real chalk/debug
// releases (September 2025) and the releases just before them.
func TestCorpusVerdicts(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("evaluation corpus not present at %s (it lives beside the repository, in ../shared/corpus): %v", corpusDir, err)
	}
	payload := malwareFiles(t)
	for _, kind := range []string{"malicious", "clean"} {
		paths, _ := filepath.Glob(filepath.Join(corpusDir, kind, "*.tgz"))
		if len(paths) == 0 {
			t.Fatalf("no tarballs in %s/%s", corpusDir, kind)
		}
		for _, p := range paths {
			t.Run(kind+"/"+filepath.Base(p), func(t *testing.T) {
				rep, err := Analyze(context.Background(), readTarball(t, p), Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s@%s: %s, score %d, %d findings", rep.Package, rep.Version, rep.Verdict, rep.Score, len(rep.Findings))
				if kind == "clean" {
					if rep.Verdict != Clean {
						for _, f := range rep.Findings {
							t.Logf("  %s %s %s:%d %s", f.Rule, f.Severity, f.File, f.Line, f.Message)
						}
						t.Fatalf("verdict %s, want clean", rep.Verdict)
					}
					return
				}
				if rep.Verdict != Malicious {
					t.Fatalf("verdict %s (score %d), want malicious", rep.Verdict, rep.Score)
				}
				file := payload[filepath.Base(p)]
				if file == "" {
					t.Fatalf("%s not in INDEX.tsv", filepath.Base(p))
				}
				// The hooked browser APIs must be named, at the payload's
				// file and line.
				for _, api := range []string{"fetch", "XMLHttpRequest.prototype.open", "XMLHttpRequest.prototype.send", "ethereum.request", "ethereum.send", "ethereum.sendAsync"} {
					found := false
					for _, f := range rep.Findings {
						if (f.Rule == "VGL-A010" || f.Rule == "VGL-A011") && f.File == file && f.Line > 0 && f.Col > 0 &&
							(strings.Contains(f.Message, " "+api+":") || strings.Contains(f.Message, " "+api+" ")) {
							found = true
							t.Logf("  %s:%d:%d %s", f.File, f.Line, f.Col, f.Message)
						}
					}
					if !found {
						t.Errorf("no finding names the hooked %s in %s", api, file)
					}
				}
			})
		}
	}
}
