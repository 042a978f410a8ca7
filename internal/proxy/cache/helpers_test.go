package cache

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openCache opens a cache in dir (a new temporary directory when empty)
// and closes it when the test ends.
func openCache(t testing.TB, dir string, maxBytes int64) *Cache {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	c, err := Open(context.Background(), Options{Dir: dir, MaxBytes: maxBytes, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testLogger(t testing.TB) *slog.Logger {
	if tt, ok := t.(*testing.T); ok {
		return slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

func sha512SRI(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

func sha1SRI(data []byte) string {
	sum := sha1.Sum(data)
	return "sha1-" + base64.StdEncoding.EncodeToString(sum[:])
}

// randomBytes returns n bytes from a generator seeded with seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// storeTarball writes data through a TarballWriter in chunks and commits.
// It returns errors rather than failing t: goroutines call it.
func storeTarball(t testing.TB, c *Cache, integrity string, data []byte) error {
	t.Helper()
	w, err := c.CreateTarball(integrity)
	if err != nil {
		return fmt.Errorf("CreateTarball: %w", err)
	}
	defer w.Abort()
	for chunk := range slicesChunk(data, 32<<10) {
		if n, err := w.Write(chunk); err != nil || n != len(chunk) {
			return fmt.Errorf("Write: %d, %v", n, err)
		}
	}
	return w.Commit()
}

func slicesChunk(data []byte, size int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(data) > 0 {
			n := min(size, len(data))
			if !yield(data[:n]) {
				return
			}
			data = data[n:]
		}
	}
}

// readTarball returns the cached bytes of integrity, or the error.
func readTarball(t testing.TB, c *Cache, integrity string) ([]byte, error) {
	t.Helper()
	r, size, err := c.OpenTarball(integrity)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading tarball: %w", err)
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("OpenTarball said %d bytes, read %d", size, len(data))
	}
	return data, nil
}

func mustMiss(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrMiss) {
		t.Fatalf("got %v, want ErrMiss", err)
	}
}

// checkConsistent compares the index with the directory: every entry's
// files exist with the recorded size, nothing else is there (no temporary
// files, no orphans), and the byte total adds up.
func checkConsistent(t testing.TB, c *Cache) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	want := map[string]int64{} // path → size (-1: any)
	var total int64
	for _, e := range c.idx.entries {
		total += e.size
		want[e.path()] = e.size
		if e.kind == kindDocument {
			want[filepath.Join(c.docDir, metaFileName(e.meta.hashOf()))] = -1
		}
	}
	if total != c.idx.bytes {
		t.Errorf("index counts %d bytes, entries add up to %d", c.idx.bytes, total)
	}
	if n := c.idx.lru.Len(); n != len(c.idx.entries) {
		t.Errorf("LRU list has %d entries, map %d", n, len(c.idx.entries))
	}
	for _, dir := range []string{c.docDir, c.tarDir} {
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			path := filepath.Join(dir, de.Name())
			size, ok := want[path]
			if !ok {
				t.Errorf("unindexed file %s", path)
				continue
			}
			delete(want, path)
			info, err := de.Info()
			if err != nil {
				t.Fatal(err)
			}
			if size >= 0 && info.Size() != size {
				t.Errorf("%s: %d bytes, index says %d", path, info.Size(), size)
			}
		}
	}
	for path := range want {
		t.Errorf("indexed file %s is missing", path)
	}
}

// listTemp returns the temporary files under the cache directory.
func listTemp(t testing.TB, dir string) []string {
	t.Helper()
	var found []string
	for _, sub := range []string{"docs", "tarballs"} {
		des, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			if strings.HasPrefix(de.Name(), tempPrefix) {
				found = append(found, filepath.Join(sub, de.Name()))
			}
		}
	}
	return found
}

func docBody(etag string, n int) []byte {
	return bytes.Repeat([]byte(etag+";"), n/(len(etag)+1)+1)[:n]
}
