package readers

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/sbom"
)

// corpusDir is the evaluation corpus beside the repository; it is not part
// of the repository, so these tests skip (saying so) on a bare clone.
const corpusDir = "../../../../shared/corpus/lockfiles"

func corpusLockfiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("evaluation corpus absent (%s): this check needs ../shared next to the repository", corpusDir)
	}
	var out []string
	for _, pat := range []string{"*/*/package-lock.json", "*/*/yarn.lock", "*/*/pnpm-lock.yaml", "*/*/bun.lock"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Fatalf("no lockfiles under %s", corpusDir)
	}
	return out
}

func expected(t *testing.T, lockfilePath string) []string {
	t.Helper()
	data, err := os.ReadFile(lockfilePath + ".expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

func names(pvs []npm.PackageVersion) []string {
	out := make([]string, len(pvs))
	for i, pv := range pvs {
		out[i] = pv.String()
	}
	slices.Sort(out)
	return out
}

func diff(got, want []string) (missing, extra []string) {
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for _, s := range got {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

// TestCorpusThroughRegistry reads every corpus lockfile the way `vigil
// scan` does (reader chosen by file name) and checks the third-party set
// against the list written beside it; then writes it as CycloneDX, as
// `vigil sbom` does, and checks the SBOM lists exactly the same packages.
func TestCorpusThroughRegistry(t *testing.T) {
	for _, path := range corpusLockfiles(t) {
		rel, _ := filepath.Rel(corpusDir, path)
		t.Run(rel, func(t *testing.T) {
			g, err := ReadFile(context.Background(), path, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := expected(t, path)
			got := names(g.ThirdParty())
			if missing, extra := diff(got, want); len(missing)+len(extra) > 0 {
				t.Fatalf("%d packages, want %d; missing %v; extra %v", len(got), len(want), head(missing), head(extra))
			}

			var buf bytes.Buffer
			if err := sbom.WriteCycloneDX(&buf, []*lockfile.Graph{g}, sbom.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			bom, err := sbom.CycloneDXReader{}.Parse(context.Background(), "bom.cdx.json", buf.Bytes())
			if err != nil {
				t.Fatalf("reading the written SBOM back: %v", err)
			}
			if missing, extra := diff(names(bom.ThirdParty()), want); len(missing)+len(extra) > 0 {
				t.Fatalf("SBOM components differ: missing %v; extra %v", head(missing), head(extra))
			}
			for _, pv := range bom.ThirdParty() {
				if !strings.HasPrefix(npm.PURL(pv.Name, pv.Version), "pkg:npm/") {
					t.Fatalf("bad purl for %s", pv)
				}
			}
		})
	}
}

func head(s []string) []string {
	if len(s) > 10 {
		return append(s[:10:10], "…")
	}
	return s
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	lockb := filepath.Join(dir, "bun.lockb")
	if err := os.WriteFile(lockb, []byte{0, 1, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(context.Background(), lockb, 0); err == nil || !strings.Contains(err.Error(), "bun.lock") {
		t.Errorf("bun.lockb: %v", err)
	}
	big := filepath.Join(dir, "package-lock.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(context.Background(), big, 1024); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := ReadFile(context.Background(), filepath.Join(dir, "notes.txt"), 0); err == nil {
		t.Error("unknown file name accepted")
	}
	for _, name := range []string{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bom.cdx.json", "app.spdx.json"} {
		if For(name) == nil {
			t.Errorf("no reader for %s", name)
		}
	}
}
