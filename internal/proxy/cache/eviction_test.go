package cache

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// present reports which of the named entries are cached, without using
// them (which would change the LRU order).
func present(c *Cache, ids map[string]string) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := map[string]bool{}
	for name, id := range ids {
		got[name] = c.idx.get(id) != nil
	}
	return got
}

func tarID(t testing.TB, data []byte) string {
	k, err := parseIntegrity(sha512SRI(data))
	if err != nil {
		t.Fatal(err)
	}
	return k.id()
}

func TestEvictionLRU(t *testing.T) {
	a, b, c3, d := randomBytes(20, 400), randomBytes(21, 400), randomBytes(22, 400), randomBytes(23, 400)
	ids := map[string]string{"a": tarID(t, a), "b": tarID(t, b), "c": tarID(t, c3), "doc": docID(keyHash("doc"))}
	steps := []struct {
		do   func(*Cache) error
		want map[string]bool
	}{
		{func(c *Cache) error { return storeTarball(t, c, sha512SRI(a), a) }, map[string]bool{"a": true}},
		{func(c *Cache) error { return storeTarball(t, c, sha512SRI(b), b) }, map[string]bool{"a": true, "b": true}},
		// Reading a makes b the least recently used.
		{func(c *Cache) error { _, err := readTarball(t, c, sha512SRI(a)); return err }, map[string]bool{"a": true, "b": true}},
		{func(c *Cache) error { return storeTarball(t, c, sha512SRI(c3), c3) }, map[string]bool{"a": true, "c": true}},
		// Documents and tarballs share one cap and one order; Touch is a use.
		{func(c *Cache) error { return c.PutDocument("doc", &Document{Body: d}) }, map[string]bool{"c": true, "doc": true}},
		{func(c *Cache) error { return c.Touch("doc", time.Now()) }, map[string]bool{"c": true, "doc": true}},
		{func(c *Cache) error { return storeTarball(t, c, sha512SRI(a), a) }, map[string]bool{"a": true, "doc": true}},
	}
	c := openCache(t, "", 1000)
	for i, s := range steps {
		if err := s.do(c); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := present(c, ids)
		for name := range ids {
			if got[name] != s.want[name] {
				t.Fatalf("after step %d: %v, want %v", i, got, s.want)
			}
		}
		checkConsistent(t, c)
	}
	if st := c.Stats(); st.Evictions != 3 || st.Bytes != 800 {
		t.Errorf("stats %+v, want 3 evictions and 800 bytes", st)
	}
}

// Recency survives a restart: with access times persisted on every use,
// a reopened cache evicts what was used least recently before it closed.
func TestEvictionOrderSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	c.persistEvery = 0
	blobs := make([][]byte, 4)
	for i := range blobs {
		blobs[i] = randomBytes(uint64(30+i), 100)
		if err := storeTarball(t, c, sha512SRI(blobs[i]), blobs[i]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // distinct mtimes
	}
	// Use 0 and 1 again: 2 is now the least recently used, then 3.
	for _, i := range []int{0, 1} {
		if _, err := readTarball(t, c, sha512SRI(blobs[i])); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	c.closed = true // crash: no Close, the lock released as the kernel would
	c.mu.Unlock()
	c.unlock()

	c = openCache(t, dir, 250) // room for two of the four: 2 and 3 go
	for i, want := range []bool{true, true, false, false} {
		_, err := readTarball(t, c, sha512SRI(blobs[i]))
		if got := err == nil; got != want {
			t.Errorf("blob %d cached=%v, want %v (%v)", i, got, want, err)
		}
	}
	if st := c.Stats(); st.Evictions != 2 {
		t.Errorf("stats %+v, want 2 evictions at Open", st)
	}
	checkConsistent(t, c)
}

// With the default interval a use does not touch the file, and Close
// writes what is pending.
func TestAccessTimePersistedAtClose(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	old, young := randomBytes(40, 100), randomBytes(41, 100)
	for _, d := range [][]byte{old, young} {
		if err := storeTarball(t, c, sha512SRI(d), d); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := parseIntegrity(sha512SRI(old))
	path := c.tarDir + "/" + tarballFileName(k, 100)
	past := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.idx.get(k.id()).persisted = past
	c.mu.Unlock()
	if _, err := readTarball(t, c, sha512SRI(old)); err != nil { // 48 h behind: stamped now
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.ModTime().Equal(past) {
		t.Fatal("a use 48 hours after the last stamp did not persist")
	}
	stamped, _ := os.Stat(path)
	time.Sleep(5 * time.Millisecond)
	if _, err := readTarball(t, c, sha512SRI(old)); err != nil { // just stamped: not again
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); !info.ModTime().Equal(stamped.ModTime()) {
		t.Fatal("a second use within the interval wrote the mtime again")
	}
	c.Close()
	if info, _ := os.Stat(path); !info.ModTime().After(stamped.ModTime()) {
		t.Fatal("Close did not persist the last use")
	}
}

func TestEvictionStress(t *testing.T) {
	c := openCache(t, "", 10_000)
	for i := range 200 {
		data := randomBytes(uint64(i), 100+i*7%900)
		if i%2 == 0 {
			if err := storeTarball(t, c, sha512SRI(data), data); err != nil {
				t.Fatal(err)
			}
		} else if err := c.PutDocument(fmt.Sprint("doc", i%17), &Document{Body: data}); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Bytes > 10_000 {
			t.Fatalf("%d bytes cached, cap 10000", st.Bytes)
		}
	}
	checkConsistent(t, c)
	if st := c.Stats(); st.Evictions == 0 {
		t.Error("no evictions")
	}
	_, err := c.Document("doc-never")
	if !errors.Is(err, ErrMiss) {
		t.Fatal(err)
	}
}

// A tarball being written is not in the index, so eviction cannot touch
// it however much else comes and goes meanwhile.
func TestEvictionSparesWritesInProgress(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 50_000)
	slow := randomBytes(60, 40_000)
	w, err := c.CreateTarball(sha512SRI(slow))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(slow[:20_000])
	for i := range 20 {
		other := randomBytes(uint64(61+i), 30_000)
		if err := storeTarball(t, c, sha512SRI(other), other); err != nil {
			t.Fatal(err)
		}
	}
	if len(listTemp(t, dir)) != 1 {
		t.Fatal("the write in progress lost its temporary file")
	}
	w.Write(slow[20_000:])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := readTarball(t, c, sha512SRI(slow)); err != nil || string(got) != string(slow) {
		t.Fatalf("the slow tarball: %v", err)
	}
	if st := c.Stats(); st.Evictions != 20 {
		t.Errorf("stats %+v, want 20 evictions", st)
	}
	checkConsistent(t, c)
}
