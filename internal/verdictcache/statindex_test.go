//go:build linux

package verdictcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// noRacyWindow lets a test record folders it has just written; the
// timestamps of the changes it makes later still differ, as they would
// anyway after the window.
func noRacyWindow(t *testing.T) {
	old := racyWindow
	racyWindow = 0
	t.Cleanup(func() { racyWindow = old })
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func statFolder(t *testing.T, dir string) *FolderState {
	t.Helper()
	s, err := StatFolder(context.Background(), dir, "salt", 0)
	if errors.Is(err, ErrStatUnsupported) {
		t.Skipf("no stat index on this filesystem: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tick lets the coarse timestamp clock move on, so that a change made now
// gets a change time of its own.
func tick() { time.Sleep(20 * time.Millisecond) }

func TestStatIndexNoticesChanges(t *testing.T) {
	noRacyWindow(t)
	ctx := context.Background()
	c := openTemp(t, "e", Options{})
	for name, change := range map[string]func(t *testing.T, dir string){
		"edit in place, size and mtime restored": func(t *testing.T, dir string) {
			p := filepath.Join(dir, "index.js")
			info, _ := os.Stat(p)
			if err := os.WriteFile(p, []byte("module.exports = 2;\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, info.ModTime(), info.ModTime()); err != nil {
				t.Fatal(err)
			}
		},
		"file added":   func(t *testing.T, dir string) { writeTree(t, dir, map[string]string{"lib/new.js": "x"}) },
		"file removed": func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "lib", "a.js"))) },
		"file renamed": func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "lib", "a.js"), filepath.Join(dir, "lib", "b.js")))
		},
		"mode changed": func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "index.js"), 0o755)) },
		"empty dir added": func(t *testing.T, dir string) {
			must(t, os.Mkdir(filepath.Join(dir, "empty"), 0o755))
		},
		"symlink retargeted, same length": func(t *testing.T, dir string) {
			p := filepath.Join(dir, "link")
			must(t, os.Remove(p))
			must(t, os.Symlink("lib/b.js", p))
		},
		"file replaced by a copy with the same times": func(t *testing.T, dir string) {
			p := filepath.Join(dir, "index.js")
			info, _ := os.Stat(p)
			tmp := filepath.Join(dir, ".new")
			must(t, os.WriteFile(tmp, []byte("module.exports = 2;\n"), 0o644))
			must(t, os.Chtimes(tmp, info.ModTime(), info.ModTime()))
			must(t, os.Rename(tmp, p))
		},
		"nested node_modules changed": func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"node_modules/dep/index.js": "module.exports = 3;\n"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"package.json": "{}", "index.js": "module.exports = 1;\n", "lib/a.js": "a", "node_modules/dep/index.js": "module.exports = 1;\n"})
			must(t, os.Symlink("lib/a.js", filepath.Join(dir, "link")))
			tick()
			s := statFolder(t, dir)
			if _, ok := c.FolderKey(s); ok {
				t.Fatal("hit before anything was recorded")
			}
			if s.Racy() {
				t.Fatal("racy with no racy window")
			}
			must(t, c.PutFolderKey(ctx, s, "folder-sha256-1"))
			if key, ok := c.FolderKey(statFolder(t, dir)); !ok || key != "folder-sha256-1" {
				t.Fatalf("unchanged folder: %q %v", key, ok)
			}
			tick()
			change(t, dir)
			if RecheckFolder(ctx, s) {
				t.Error("RecheckFolder missed the change")
			}
			if key, ok := c.FolderKey(statFolder(t, dir)); ok {
				t.Errorf("changed folder served key %q", key)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Files changed within the racy window are not recorded: their
// timestamps may not move for a change in the same clock tick.
func TestStatIndexRacyStateNotRecorded(t *testing.T) {
	ctx := context.Background()
	c := openTemp(t, "e", Options{})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"index.js": "1"})
	s := statFolder(t, dir)
	if !s.Racy() {
		t.Fatal("a file written just now is not racy")
	}
	must(t, c.PutFolderKey(ctx, s, "k"))
	if _, err := os.Stat(c.statPath(s)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a racy state was recorded: %v", err)
	}
	if RecheckFolder(ctx, s) {
		t.Error("a racy state passed the recheck")
	}
}

func TestStatIndexCorruptEntries(t *testing.T) {
	noRacyWindow(t)
	ctx := context.Background()
	c := openTemp(t, "e", Options{})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"index.js": "1"})
	tick()
	s := statFolder(t, dir)
	must(t, c.PutFolderKey(ctx, s, "k1"))
	good, err := os.ReadFile(c.statPath(s))
	must(t, err)
	other, err := StatFolder(ctx, dir, "other salt", 0)
	must(t, err)
	if c.statPath(other) == c.statPath(s) {
		t.Fatal("the salt does not name the entry")
	}
	for name, content := range map[string]string{
		"empty":         "",
		"not json":      "\x00garbage",
		"truncated":     string(good[:len(good)/2]),
		"trailing":      string(good) + "{}",
		"unknown field": fmt.Sprintf(`{"format":1,"dir":%q,"salt":"salt","stat":%q,"key":"k","x":1}`, s.dir, s.sum),
		"other format":  fmt.Sprintf(`{"format":9,"dir":%q,"salt":"salt","stat":%q,"key":"k"}`, s.dir, s.sum),
		"other dir":     fmt.Sprintf(`{"format":1,"dir":"/elsewhere","salt":"salt","stat":%q,"key":"k"}`, s.sum),
		"other salt":    fmt.Sprintf(`{"format":1,"dir":%q,"salt":"pepper","stat":%q,"key":"k"}`, s.dir, s.sum),
		"no key":        fmt.Sprintf(`{"format":1,"dir":%q,"salt":"salt","stat":%q,"key":""}`, s.dir, s.sum),
		"other stat":    fmt.Sprintf(`{"format":1,"dir":%q,"salt":"salt","stat":"00","key":"k"}`, s.dir),
	} {
		t.Run(name, func(t *testing.T) {
			must(t, os.WriteFile(c.statPath(s), []byte(content), 0o600))
			if key, ok := c.FolderKey(s); ok {
				t.Fatalf("served %q", key)
			}
			must(t, c.PutFolderKey(ctx, s, "k2"))
			if key, ok := c.FolderKey(s); !ok || key != "k2" {
				t.Errorf("not rewritten: %q %v", key, ok)
			}
		})
	}
	// Trim counts and removes stat entries like verdicts.
	c.maxBytes = 1
	if n, err := c.Trim(ctx); err != nil || n != 1 {
		t.Errorf("Trim removed %d, %v", n, err)
	}
	if _, ok := c.FolderKey(s); ok {
		t.Error("a trimmed stat entry was served")
	}
}

func TestStatFolderFailures(t *testing.T) {
	ctx := context.Background()
	if _, err := StatFolder(ctx, filepath.Join(t.TempDir(), "missing"), "", 0); err == nil {
		t.Error("a missing folder was fingerprinted")
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "1", "b": "2", "c/d": "3"})
	if _, err := StatFolder(ctx, dir, "", 3); !errors.Is(err, errTooManyEntries) {
		t.Errorf("4 entries under a limit of 3: %v", err)
	}
	if _, err := StatFolder(ctx, dir, "", 4); err != nil && !errors.Is(err, ErrStatUnsupported) {
		t.Errorf("4 entries under a limit of 4: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := StatFolder(cancelled, dir, "", 0); err == nil {
		t.Error("a cancelled walk succeeded")
	}
	if os.Geteuid() != 0 {
		must(t, os.Chmod(filepath.Join(dir, "c"), 0))
		t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "c"), 0o755) })
		if _, err := StatFolder(ctx, dir, "", 0); err == nil {
			t.Error("an unreadable subfolder was fingerprinted")
		}
	}
}

// Workers fingerprinting, looking up and recording folders at once (run
// with -race).
func TestStatIndexConcurrent(t *testing.T) {
	noRacyWindow(t)
	ctx := context.Background()
	c := openTemp(t, "e", Options{})
	dirs := make([]string, 4)
	for i := range dirs {
		dirs[i] = t.TempDir()
		writeTree(t, dirs[i], map[string]string{"index.js": fmt.Sprint(i), "lib/x.js": "x"})
	}
	tick()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for j := range 40 {
				i := (w + j) % len(dirs)
				s, err := StatFolder(ctx, dirs[i], "salt", 0)
				if err != nil {
					if !errors.Is(err, ErrStatUnsupported) {
						t.Error(err)
					}
					return
				}
				want := fmt.Sprintf("key-%d", i)
				if key, ok := c.FolderKey(s); ok && key != want {
					t.Errorf("folder %d served %q", i, key)
				}
				if err := c.PutFolderKey(ctx, s, want); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
