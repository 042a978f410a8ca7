package tarball

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCorpus reads every gzip file under $VIGIL_TARBALL_CORPUS (an npm
// cache's content-v2 folder is a good one: ~/.npm/_cacache/content-v2) and
// fails on any tarball Read refuses: real packages must read cleanly. It
// is skipped when the variable is unset, so the suite needs nothing outside
// the repository.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("VIGIL_TARBALL_CORPUS")
	if dir == "" {
		t.Skip("VIGIL_TARBALL_CORPUS is not set; set it to a folder of real npm tarballs (e.g. ~/.npm/_cacache/content-v2)")
	}
	var n, warned int
	var worst time.Duration
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(data, magicGzip) {
			return nil // packuments and other cache entries
		}
		n++
		start := time.Now()
		a, err := Read(context.Background(), bytes.NewReader(data), Limits{})
		worst = max(worst, time.Since(start))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if len(a.Warnings) > 0 {
			warned++
			t.Logf("%s (root %q, %d files): %v", filepath.Base(p), a.Root, len(a.Files), a.Warnings)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tarballs read, %d with warnings, slowest %v", n, warned, worst)
}
