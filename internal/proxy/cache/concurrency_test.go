package cache

import (
	"bytes"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentDocumentsOneKey has writers replace one key while readers
// read it. Each writer's body is derived from its ETag, so a reader that
// ever got one writer's metadata with another's body, or a partial body,
// fails.
func TestConcurrentDocumentsOneKey(t *testing.T) {
	c := openCache(t, "", 0)
	const writers, rounds = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				etag := fmt.Sprintf("w%d-r%d", w, r)
				body := docBody(etag, 50_000+w*1000+r)
				if err := c.PutDocument("shared", &Document{Body: body, ETag: etag}); err != nil {
					errs <- err
				}
				if r%3 == 0 {
					if err := c.Touch("shared", time.Now()); err != nil && !errors.Is(err, ErrMiss) {
						errs <- err
					}
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := c.Document("shared")
				if errors.Is(err, ErrMiss) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(d.Body, docBody(d.ETag, len(d.Body))) || len(d.Body) < 50_000 {
					errs <- fmt.Errorf("document with ETag %s has a body of %d bytes that is not its own", d.ETag, len(d.Body))
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkConsistent(t, c)
	if st := c.Stats(); st.Documents != 1 {
		t.Errorf("stats %+v, want one document", st)
	}
}

// TestConcurrentMixed runs writers and readers of documents and tarballs
// over a small key space with a cap that forces constant eviction, then
// checks the index against the directory.
func TestConcurrentMixed(t *testing.T) {
	c := openCache(t, "", 400_000)
	blobs := make([][]byte, 12)
	for i := range blobs {
		blobs[i] = randomBytes(uint64(100+i), 20_000+i*5_000)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 60 {
				i := rng.IntN(len(blobs))
				switch rng.IntN(5) {
				case 0:
					if err := storeTarball(t, c, sha512SRI(blobs[i]), blobs[i]); err != nil {
						errs <- err
					}
				case 1:
					key := fmt.Sprint("doc", i)
					if err := c.PutDocument(key, &Document{Body: blobs[i], ETag: fmt.Sprint(i)}); err != nil {
						errs <- err
					}
				case 2:
					d, err := c.Document(fmt.Sprint("doc", i))
					if err == nil && !bytes.Equal(d.Body, blobs[i]) {
						err = fmt.Errorf("doc%d: wrong body", i)
					}
					if err != nil && !errors.Is(err, ErrMiss) {
						errs <- err
					}
				case 3:
					if err := c.Touch(fmt.Sprint("doc", i), time.Now()); err != nil && !errors.Is(err, ErrMiss) {
						errs <- err
					}
				default:
					r, size, err := c.OpenTarball(sha512SRI(blobs[i]))
					if errors.Is(err, ErrMiss) {
						continue
					}
					if err != nil {
						errs <- err
						continue
					}
					h := sha512.New()
					n, err := io.Copy(h, r)
					r.Close()
					if err != nil || n != size || !bytes.Equal(h.Sum(nil), sha512Sum(blobs[i])) {
						errs <- fmt.Errorf("tarball %d: read %d of %d bytes, %v, or wrong digest", i, n, size, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := c.Stats()
	if st.Bytes > 400_000 {
		t.Errorf("%d bytes over the cap", st.Bytes)
	}
	t.Logf("stats %+v", st)
	checkConsistent(t, c)
}

func sha512Sum(b []byte) []byte {
	s := sha512.Sum512(b)
	return s[:]
}
