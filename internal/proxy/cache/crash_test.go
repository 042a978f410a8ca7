package cache

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestOpenCleansUpAfterACrash plants what crashes and corruption leave and
// checks that Open removes exactly that and keeps the rest.
func TestOpenCleansUpAfterACrash(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	keep := &Document{Body: []byte(`{"name":"keep"}`), ETag: `"k"`, FetchedAt: time.Unix(1e9, 0).UTC()}
	for _, key := range []string{"keep", "truncated body", "bad sidecar", "missing body", "swapped"} {
		if err := c.PutDocument(key, keep); err != nil {
			t.Fatal(err)
		}
	}
	keepT, truncT := randomBytes(50, 10_000), randomBytes(51, 10_000)
	for _, d := range [][]byte{keepT, truncT} {
		if err := storeTarball(t, c, sha512SRI(d), d); err != nil {
			t.Fatal(err)
		}
	}
	bodyOf := func(key string) string {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.idx.get(docID(keyHash(key))).path()
	}
	metaOf := func(key string) string { return filepath.Join(dir, "docs", metaFileName(keyHash(key))) }
	truncBody, missingBody := bodyOf("truncated body"), bodyOf("missing body")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	write := func(path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := parseIntegrity(sha512SRI(truncT))
	unknown := filepath.Join(dir, "docs", "README")
	write(filepath.Join(dir, "docs", tempPrefix+"123"), []byte(`{"half a bo`))        // PutDocument killed mid-write
	write(filepath.Join(dir, "tarballs", tempPrefix+"456"), truncT[:3000])            // download killed mid-stream
	write(filepath.Join(dir, "docs", bodyFileName(keyHash("orphan"), newGen())), nil) // killed between the two renames
	write(metaOf("bad sidecar"), []byte("\x00garbage"))
	sidecar, err := os.ReadFile(metaOf("keep"))
	if err != nil {
		t.Fatal(err)
	}
	write(metaOf("swapped"), sidecar) // names another key's body
	write(unknown, []byte("not ours"))
	if err := os.Truncate(filepath.Join(dir, "tarballs", tarballFileName(k, 10_000)), 4096); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(truncBody, 3); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(missingBody); err != nil {
		t.Fatal(err)
	}
	// A symlink with a valid tarball name must not make the cache serve
	// what it points at.
	evil := randomBytes(52, 100)
	ek, _ := parseIntegrity(sha512SRI(evil))
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "tarballs", tarballFileName(ek, 100))); err != nil {
		t.Fatal(err)
	}

	c = openCache(t, dir, 0)
	checkDocument(t, c, "keep", keep)
	for _, key := range []string{"truncated body", "bad sidecar", "missing body", "swapped", "orphan"} {
		_, err := c.Document(key)
		mustMiss(t, err)
	}
	if got, err := readTarball(t, c, sha512SRI(keepT)); err != nil || string(got) != string(keepT) {
		t.Fatalf("intact tarball: %v", err)
	}
	for _, d := range [][]byte{truncT, evil} {
		_, err := readTarball(t, c, sha512SRI(d))
		mustMiss(t, err)
	}
	if tmp := listTemp(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files survived Open: %v", tmp)
	}
	if _, err := os.Stat(unknown); err != nil {
		t.Errorf("Open removed a file it did not write: %v", err)
	}
	os.Remove(unknown)
	os.Remove(filepath.Join(dir, "tarballs", tarballFileName(ek, 100)))
	checkConsistent(t, c)
	if st := c.Stats(); st.Documents != 1 || st.Tarballs != 1 {
		t.Errorf("stats %+v, want 1 document and 1 tarball", st)
	}
}

const crashDirEnv = "VIGIL_CACHE_CRASH_DIR"

// TestKill9 runs a process that writes documents and tarballs as fast as
// it can, kills it with SIGKILL, and checks that the reopened cache holds
// only whole, verified entries.
func TestKill9(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	dir := t.TempDir()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		for lines.Scan() && lines.Text() != "ready" {
		}
		time.Sleep(time.Duration(150+100*round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()

		if tmp := listTemp(t, dir); len(tmp) == 0 {
			t.Errorf("round %d: the child left no temporary file: the crash was not mid-write", round)
		}
		c, err := Open(context.Background(), Options{Dir: dir, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		checked, removed, err := c.Verify(t.Context())
		if err != nil || removed != 0 {
			t.Errorf("round %d: Verify: %d of %d tarballs corrupt, %v", round, removed, checked, err)
		}
		docs := 0
		for i := range crashKeys {
			d, err := c.Document(fmt.Sprint("doc", i))
			if err != nil {
				continue
			}
			docs++
			if !slices.Equal(d.Body, docBody(d.ETag, len(d.Body))) {
				t.Errorf("round %d: doc%d: body does not belong to ETag %q", round, i, d.ETag)
			}
		}
		if tmp := listTemp(t, dir); len(tmp) != 0 {
			t.Errorf("round %d: temporary files survived Open: %v", round, tmp)
		}
		checkConsistent(t, c)
		t.Logf("round %d: %d documents and %d tarballs survived", round, docs, checked)
		if docs == 0 || checked == 0 {
			t.Errorf("round %d: the child wrote nothing", round)
		}
		c.Close()
	}
}

const crashKeys = 10

// crashChild writes until it is killed. One tarball stays half-written
// throughout, so every kill leaves a temporary file.
func crashChild(dir string) {
	c, err := Open(context.Background(), Options{Dir: dir, MaxBytes: 4 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c.persistEvery = 0
	pending, err := c.CreateTarball(sha512SRI([]byte("never finished")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pending.Write([]byte("never"))
	fmt.Println("ready")
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				size := 1000 + rng.IntN(300_000)
				if g == 0 {
					data := randomBytes(rng.Uint64(), size)
					w, err := c.CreateTarball(sha512SRI(data))
					if err != nil {
						continue
					}
					for chunk := range slicesChunk(data, 16<<10) {
						w.Write(chunk)
					}
					w.Commit()
					continue
				}
				key := fmt.Sprint("doc", rng.IntN(crashKeys))
				etag := fmt.Sprintf("g%d-%d", g, n)
				if n%4 == 3 {
					c.Touch(key, time.Now())
				}
				c.PutDocument(key, &Document{Body: docBody(etag, size), ETag: etag})
				c.Document(key)
			}
		})
	}
	wg.Wait()
}
