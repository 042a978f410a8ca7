package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/tarball"
)

func TestNPMCacheRead(t *testing.T) {
	root := t.TempDir()
	data := []byte("tarball bytes")
	path := writeCacache(t, root, sri(data), data)
	c := npmCache{dir: filepath.Join(root, "_cacache")}
	integ, _ := npm.ParseIntegrity(sri(data))

	got, p, err := c.read(integ, 1<<20)
	if err != nil || string(got) != string(data) || p != path {
		t.Fatalf("read: %q %q %v", got, p, err)
	}
	if !strings.Contains(filepath.ToSlash(p), "/content-v2/sha512/") {
		t.Errorf("path %s", p)
	}
	if _, _, err := c.read(integ, 4); !errors.As(err, new(*tarball.LimitError)) {
		t.Errorf("over the size limit: %v", err)
	}
	other, _ := npm.ParseIntegrity(sri([]byte("other")))
	if _, _, err := c.read(other, 1<<20); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing entry: %v", err)
	}
	// An entry whose bytes do not hash to its name is never returned.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _, err := c.read(integ, 1<<20); err == nil || got != nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("tampered entry: %q %v", got, err)
	}
	// sha1 entries (yarn v1 lockfiles record hex shasums) use the same layout.
	sha1Path := writeCacache(t, root, "da39a3ee5e6b4b0d3255bfef95601890afd80709", nil)
	i1, _ := npm.ParseIntegrity("da39a3ee5e6b4b0d3255bfef95601890afd80709")
	if got, p, err := c.read(i1, 10); err != nil || len(got) != 0 || p != sha1Path {
		t.Errorf("sha1 entry: %q %q %v", got, p, err)
	}
}

// FuzzNPMCachePath: whatever integrity string a lockfile holds, the cache
// path built from it stays inside the cache folder.
func FuzzNPMCachePath(f *testing.F) {
	for _, s := range []string{
		"sha512-" + strings.Repeat("A", 86) + "==",
		"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
		"da39a3ee5e6b4b0d3255bfef95601890afd80709",
		"sha256-../../etc/passwd",
		"md5-abc",
		"sha512-AA== sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
	} {
		f.Add(s)
	}
	dir := filepath.Join(f.TempDir(), "_cacache")
	c := npmCache{dir: dir}
	f.Fuzz(func(t *testing.T, s string) {
		i, err := npm.ParseIntegrity(s)
		if err != nil {
			return
		}
		p, err := c.contentPath(i)
		if err != nil {
			return
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) || strings.Count(filepath.ToSlash(rel), "/") != 4 {
			t.Fatalf("%q: path %s escapes or breaks the layout (%s)", s, p, rel)
		}
		if _, _, err := c.read(i, 1<<10); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%q: reading an empty cache: %v", s, err)
		}
	})
}
