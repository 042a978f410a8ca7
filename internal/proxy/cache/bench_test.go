package cache

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkOpenTarball opens a cached tarball and reads it to the end into
// a reused buffer, as a server copying it to a client would (page cache
// warm after the first iteration).
func BenchmarkOpenTarball(b *testing.B) {
	for _, size := range []int{1 << 20, 40 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			c := openCache(b, "", 0)
			data := randomBytes(uint64(size), size)
			integrity := sha512SRI(data)
			if err := storeTarball(b, c, integrity, data); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 256<<10)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				r, n, err := c.OpenTarball(integrity)
				if err != nil {
					b.Fatal(err)
				}
				got, err := io.CopyBuffer(onlyWriter{io.Discard}, onlyReader{r}, buf)
				r.Close()
				if err != nil || got != n {
					b.Fatalf("read %d of %d: %v", got, n, err)
				}
			}
		})
	}
}

// BenchmarkDocument reads a cached document with its body into memory.
func BenchmarkDocument(b *testing.B) {
	for _, size := range []int{5 << 20, 20 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			c := openCache(b, "", 0)
			if err := c.PutDocument("k", &Document{Body: docBody(`"etag"`, size), ETag: `"etag"`}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				d, err := c.Document("k")
				if err != nil || len(d.Body) != size {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateTarball streams a 1 MB tarball into the cache: hash,
// write, fsync, rename.
func BenchmarkCreateTarball(b *testing.B) {
	c := openCache(b, "", 0)
	data := randomBytes(1, 1<<20)
	integrity := sha512SRI(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := storeTarball(b, c, integrity, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenIndex measures Open over 2,000 documents and 2,000 tarballs.
func BenchmarkOpenIndex(b *testing.B) {
	dir := b.TempDir()
	c := openCache(b, dir, 0)
	for i := range 2000 {
		if err := c.PutDocument(fmt.Sprint("doc", i), &Document{Body: []byte("{}"), ETag: fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
		data := randomBytes(uint64(i), 64)
		if err := storeTarball(b, c, sha512SRI(data), data); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	b.ReportAllocs()
	for b.Loop() {
		c, err := Open(b.Context(), Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if st := c.Stats(); st.Entries != 4000 {
			b.Fatalf("%d entries", st.Entries)
		}
		c.Close()
	}
}

// onlyReader and onlyWriter hide ReaderFrom/WriterTo so that CopyBuffer
// uses the buffer: the benchmark measures reads, not sendfile to nowhere.
type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }
