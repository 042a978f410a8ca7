package cache

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestTarballRoundTrip(t *testing.T) {
	data := randomBytes(3, 200_000)
	sum := sha1.Sum(data)
	tests := []struct {
		name, integrity string
		data            []byte
	}{
		{"sha512", sha512SRI(data), data},
		{"sha1 SRI", sha1SRI(data), data},
		{"hex shasum", hex.EncodeToString(sum[:]), data},
		{"several hashes", sha1SRI(data) + " " + sha512SRI(data), data},
		{"empty tarball", sha512SRI(nil), []byte{}},
	}
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := storeTarball(t, c, tt.integrity, tt.data); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			got, err := readTarball(t, c, tt.integrity)
			if err != nil {
				t.Fatalf("OpenTarball: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatal("bytes differ")
			}
		})
	}
	checkConsistent(t, c)
	// sha1 SRI and the hex shasum name one file: three entries, not five.
	if st := c.Stats(); st.Tarballs != 3 {
		t.Errorf("%d tarballs, want 3 (sha512, sha1, empty)", st.Tarballs)
	}
	c.Close()
	c = openCache(t, dir, 0)
	for _, tt := range tests {
		if got, err := readTarball(t, c, tt.integrity); err != nil || !bytes.Equal(got, tt.data) {
			t.Errorf("%s after reopen: %v", tt.name, err)
		}
	}
	checkConsistent(t, c)
}

func TestTarballIntegrityMismatchDiscards(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	want := []byte("the real tarball")
	integrity := sha512SRI(want)
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"other bytes", []byte("a malicious tarb")},
		{"truncated", want[:10]},
		{"extra byte", append(append([]byte{}, want...), 0)},
		{"nothing", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := storeTarball(t, c, integrity, tt.data)
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("Commit: %v, want ErrIntegrity", err)
			}
			_, err = readTarball(t, c, integrity)
			mustMiss(t, err)
			if tmp := listTemp(t, dir); len(tmp) != 0 {
				t.Errorf("left %v", tmp)
			}
		})
	}
	if st := c.Stats(); st.IntegrityFailures != 4 || st.Entries != 0 {
		t.Errorf("stats %+v", st)
	}
	// A mismatch never deletes the good copy already cached.
	if err := storeTarball(t, c, integrity, want); err != nil {
		t.Fatal(err)
	}
	if err := storeTarball(t, c, integrity, []byte("evil")); !errors.Is(err, ErrIntegrity) {
		t.Fatal(err)
	}
	if got, err := readTarball(t, c, integrity); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("good copy after a failed commit: %q, %v", got, err)
	}
	checkConsistent(t, c)
}

func TestTarballWriterLifecycle(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	data := []byte("bytes")
	integrity := sha512SRI(data)

	w, err := c.CreateTarball(integrity)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	_, err = readTarball(t, c, integrity)
	mustMiss(t, err)

	w, err = c.CreateTarball(integrity)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, err := readTarball(t, c, integrity); err != nil {
		t.Fatalf("Abort after Commit removed the tarball: %v", err)
	}
	if tmp := listTemp(t, dir); len(tmp) != 0 {
		t.Errorf("left %v", tmp)
	}
	checkConsistent(t, c)
}

func TestTarballInvalidIntegrity(t *testing.T) {
	c := openCache(t, "", 0)
	for _, bad := range []string{"", "md5-AAAA", "sha512-../../x", "sha512-" + string(make([]byte, 88))} {
		if _, err := c.CreateTarball(bad); !errors.Is(err, ErrInvalidIntegrity) {
			t.Errorf("CreateTarball(%q): %v", bad, err)
		}
		if _, _, err := c.OpenTarball(bad); !errors.Is(err, ErrInvalidIntegrity) {
			t.Errorf("OpenTarball(%q): %v", bad, err)
		}
	}
}

// A storage failure mid-stream does not fail Write (the download goes on)
// but Commit reports it, and nothing is cached.
func TestTarballStorageFailure(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	data := randomBytes(4, 100_000)
	w, err := c.CreateTarball(sha512SRI(data))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data[:50_000])
	w.f.Close() // the disk goes away
	if n, err := w.Write(data[50_000:]); err != nil || n != 50_000 {
		t.Fatalf("Write after a storage failure: %d, %v", n, err)
	}
	err = w.Commit()
	if err == nil || errors.Is(err, ErrIntegrity) {
		t.Fatalf("Commit: %v, want a storage error", err)
	}
	_, err = readTarball(t, c, sha512SRI(data))
	mustMiss(t, err)
	if tmp := listTemp(t, dir); len(tmp) != 0 {
		t.Errorf("left %v", tmp)
	}
}

func TestTarballLargerThanCap(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 1000)
	data := randomBytes(5, 1001)
	if err := storeTarball(t, c, sha512SRI(data), data); err != nil {
		t.Fatalf("Commit of a verified but oversized tarball: %v", err)
	}
	_, err := readTarball(t, c, sha512SRI(data))
	mustMiss(t, err)
	// Still verified: a mismatch is reported even though nothing is stored.
	if err := storeTarball(t, c, sha512SRI(data), randomBytes(6, 1001)); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("oversized mismatch: %v", err)
	}
	if st := c.Stats(); st.TooLarge != 1 || st.Entries != 0 {
		t.Errorf("stats %+v", st)
	}
	if tmp := listTemp(t, dir); len(tmp) != 0 {
		t.Errorf("left %v", tmp)
	}
	exact := randomBytes(7, 1000)
	if err := storeTarball(t, c, sha512SRI(exact), exact); err != nil {
		t.Fatal(err)
	}
	if _, err := readTarball(t, c, sha512SRI(exact)); err != nil {
		t.Errorf("a tarball of exactly the cap: %v", err)
	}
}

func TestTarballReaderSurvivesEviction(t *testing.T) {
	c := openCache(t, "", 1<<20)
	a := randomBytes(8, 800_000)
	if err := storeTarball(t, c, sha512SRI(a), a); err != nil {
		t.Fatal(err)
	}
	r, _, err := c.OpenTarball(sha512SRI(a))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := randomBytes(9, 800_000)
	if err := storeTarball(t, c, sha512SRI(b), b); err != nil { // evicts a
		t.Fatal(err)
	}
	if _, err := readTarball(t, c, sha512SRI(a)); !errors.Is(err, ErrMiss) {
		t.Fatalf("a was not evicted: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, a) {
		t.Fatalf("the open reader lost its bytes: %v", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, c)
}

func TestTarballConcurrentCommitsOfOneIntegrity(t *testing.T) {
	c := openCache(t, "", 0)
	data := randomBytes(10, 300_000)
	integrity := sha512SRI(data)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() { errs <- storeTarball(t, c, integrity, data) })
		wg.Go(func() {
			got, err := readTarball(t, c, integrity)
			if err == nil && !bytes.Equal(got, data) {
				err = errors.New("a reader saw other bytes")
			}
			if errors.Is(err, ErrMiss) {
				err = nil
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := c.Stats(); st.Tarballs != 1 || st.Bytes != int64(len(data)) {
		t.Errorf("stats %+v", st)
	}
	checkConsistent(t, c)
}

func TestVerifyRemovesCorruptedTarballs(t *testing.T) {
	c := openCache(t, "", 0)
	good, bad := randomBytes(11, 5000), randomBytes(12, 5000)
	for _, d := range [][]byte{good, bad} {
		if err := storeTarball(t, c, sha512SRI(d), d); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := parseIntegrity(sha512SRI(bad))
	path := filepath.Join(c.tarDir, tarballFileName(k, int64(len(bad))))
	flipped := append([]byte{}, bad...)
	flipped[100] ^= 1 // bit rot: same size, other bytes
	if err := os.WriteFile(path, flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	checked, removed, err := c.Verify(t.Context())
	if err != nil || checked != 2 || removed != 1 {
		t.Fatalf("Verify = %d checked, %d removed, %v; want 2, 1", checked, removed, err)
	}
	_, err = readTarball(t, c, sha512SRI(bad))
	mustMiss(t, err)
	if _, err := readTarball(t, c, sha512SRI(good)); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, c)
}

// A file truncated while the cache is open is caught by the size check
// when opened, and dropped.
func TestTruncatedWhileOpenIsAMiss(t *testing.T) {
	c := openCache(t, "", 0)
	data := randomBytes(13, 5000)
	if err := storeTarball(t, c, sha512SRI(data), data); err != nil {
		t.Fatal(err)
	}
	if err := c.PutDocument("k", &Document{Body: data}); err != nil {
		t.Fatal(err)
	}
	k, _ := parseIntegrity(sha512SRI(data))
	c.mu.Lock()
	docPath := c.idx.get(docID(keyHash("k"))).path()
	c.mu.Unlock()
	for _, p := range []string{filepath.Join(c.tarDir, tarballFileName(k, 5000)), docPath} {
		if err := os.Truncate(p, 100); err != nil {
			t.Fatal(err)
		}
	}
	_, err := readTarball(t, c, sha512SRI(data))
	mustMiss(t, err)
	_, err = c.Document("k")
	mustMiss(t, err)
	if st := c.Stats(); st.Entries != 0 {
		t.Errorf("damaged entries still indexed: %+v", st)
	}
	checkConsistent(t, c)
}
