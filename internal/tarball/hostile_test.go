package tarball

// The hostile inputs of issue 3: a gzip bomb expanding to 10 GB, a million
// entries, a 100 MB single-line file (path traversal and escaping links are
// in read_test.go). Each must end with a clear error or a bounded result
// within 256 MiB. Unit tests assert the bounds structurally (how much input
// was pulled, which limit stopped it, total bytes allocated); wall time and
// peak heap are measured by the BenchmarkHostile* functions instead.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// memBound is the bar for every hostile input.
const memBound = 256 << 20

const tenGiB = 10 << 30

// allocated returns the bytes allocated while f ran, by every goroutine:
// an upper bound on how much the heap can have grown.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func wantLimit(t *testing.T, err error, limit Limit) *LimitError {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("err = %v, want a %s LimitError", err, limit)
	}
	return le
}

// TestZeroBombIsValidGzip: the bomb generator makes real gzip (checked
// by the standard library, CRC included) of exactly what it claims.
func TestZeroBombIsValidGzip(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		n      int64
	}{{"prefix", 8 << 20}, {"", 1 << 20}} {
		zr, err := gzip.NewReader(zeroBomb(t, []byte(tt.prefix), tt.n).open())
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("the bomb is not valid gzip: %v", err)
		}
		if int64(len(out)) != int64(len(tt.prefix))+tt.n || string(out[:len(tt.prefix)]) != tt.prefix ||
			bytes.IndexFunc(out[len(tt.prefix):], func(r rune) bool { return r != 0 }) >= 0 {
			t.Errorf("inflates to %d bytes, not %q and %d zeros", len(out), tt.prefix, tt.n)
		}
	}
	b := zeroBomb(t, nil, tenGiB)
	size := int64(len(b.first)+len(b.final)) + b.reps*int64(len(b.again))
	t.Logf("10 GiB of zeros: %d compressed bytes", size)
	if size > 20<<20 {
		t.Errorf("bomb is %d bytes", size)
	}
}

func TestHostileGzipBomb(t *testing.T) {
	tests := []struct {
		name      string
		src       *bomb
		lim       Limits
		limit     Limit
		maxPulled int64 // compressed bytes the reader may pull before stopping
	}{
		// A stream of zeros is an empty tar archive followed by 10 GiB of
		// "padding": the ratio check stops the drain after ~1 MiB.
		{"10 GiB of zeros", zeroBomb(t, nil, tenGiB), Limits{}, LimitRatio, 64 << 10},
		// Without the ratio check, MaxUncompressed stops it (256 MiB of
		// zeros is ~260 KiB compressed).
		{"10 GiB of zeros, ratio check off", zeroBomb(t, nil, tenGiB), Limits{MaxRatio: 1e12}, LimitUncompressed, 1 << 20},
		// A header declaring 10 GiB is refused before any data is inflated.
		{"one 10 GiB entry", zeroBomb(t, tarHeaderOnly(t, "package/zero.bin", tenGiB), tenGiB), Limits{MaxRatio: 1e12}, LimitUncompressed, 64 << 10},
		// 10 GiB spread over 214 entries of 48 MiB, each too large to load
		// and skipped by inflating it.
		{"10 GiB in 48 MiB files", zeroFilesBomb(t, "package/zero.bin", 48<<20, 214), Limits{}, LimitRatio, 64 << 10},
		{"10 GiB in 48 MiB files, ratio check off", zeroFilesBomb(t, "package/zero.bin", 48<<20, 214), Limits{MaxRatio: 1e12}, LimitUncompressed, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{r: tt.src.open()}
			var err error
			alloc := allocated(func() { _, err = Read(context.Background(), src, tt.lim) })
			le := wantLimit(t, err, tt.limit)
			// What was inflated came from what was pulled, and deflate
			// inflates at most 1032:1.
			if src.n > tt.maxPulled {
				t.Errorf("pulled %d compressed bytes, want at most %d", src.n, tt.maxPulled)
			}
			if ceiling := float64(tt.lim.withDefaults().MaxUncompressed + 1); le.Limit == LimitUncompressed && le.Path == "" && le.Value > ceiling {
				t.Errorf("inflated %v bytes", le.Value)
			}
			if alloc > memBound && !raceEnabled {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%v; pulled %d compressed bytes, allocated %d KiB", err, src.n, alloc>>10)
		})
	}
}

// millionEntries streams a gzip tar of n empty files through a pipe.
func millionEntries(n int) (io.ReadCloser, <-chan error) {
	return streamTgz(func(tw *tar.Writer) error {
		for i := range n {
			h := &tar.Header{Name: fmt.Sprintf("package/f%07d.js", i), Mode: 0o644, ModTime: epoch, Typeflag: tar.TypeReg}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestHostileMillionEntries(t *testing.T) {
	r, done := millionEntries(1_000_000)
	var err error
	alloc := allocated(func() { _, err = Read(context.Background(), r, Limits{}) })
	r.Close()
	if genErr := <-done; genErr == nil {
		t.Error("the generator finished: the reader did not stop early")
	}
	le := wantLimit(t, err, LimitEntries)
	if le.Value != DefaultMaxEntries+1 {
		t.Errorf("stopped at entry %v", le.Value)
	}
	if alloc > memBound && !raceEnabled {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	t.Logf("%v; allocated %d MiB", err, alloc>>20)
}

// singleLine streams a tarball holding package.json and a size-byte
// JavaScript file with no newline.
func singleLine(size int64) (io.ReadCloser, <-chan error) {
	return streamTgz(func(tw *tar.Writer) error {
		pj := `{"name":"one-line","version":"1.0.0"}`
		if err := tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(pj)), ModTime: epoch}); err != nil {
			return err
		}
		io.WriteString(tw, pj)
		if err := tw.WriteHeader(&tar.Header{Name: "package/dist/index.min.js", Mode: 0o644, Size: size, ModTime: epoch}); err != nil {
			return err
		}
		_, err := io.CopyN(tw, &noise{s: 1}, size)
		return err
	})
}

func TestHostileSingleLine100MB(t *testing.T) {
	const size = 100_000_000
	t.Run("defaults: listed, not loaded", func(t *testing.T) {
		r, done := singleLine(size)
		var a *Archive
		var err error
		alloc := allocated(func() { a, err = Read(context.Background(), r, Limits{}) })
		r.Close()
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Files) != 1 || len(a.Skipped) != 1 {
			t.Fatalf("files %q skipped %+v", paths(a), a.Skipped)
		}
		s := a.Skipped[0]
		if s.Reason != ReasonTooLarge || s.Size != size || len(s.Head) != headSize || bytes.IndexByte(s.Head, '\n') >= 0 {
			t.Errorf("skipped %s: %s, %d bytes, head %d", s.Path, s.Reason, s.Size, len(s.Head))
		}
		if alloc > 16<<20 && !raceEnabled {
			t.Errorf("allocated %d MiB for a file that is not loaded", alloc>>20)
		}
		t.Logf("allocated %d KiB", alloc>>10)
	})
	t.Run("raised file size limit: loaded", func(t *testing.T) {
		r, done := singleLine(size)
		var a *Archive
		var err error
		alloc := allocated(func() { a, err = Read(context.Background(), r, Limits{MaxFileSize: 128 << 20}) })
		r.Close()
		<-done
		if err != nil {
			t.Fatal(err)
		}
		f, ok := a.Get("dist/index.min.js")
		if !ok || f.Size != size || bytes.IndexByte(f.Data, '\n') >= 0 {
			t.Fatalf("file %v", ok)
		}
		if alloc > memBound && !raceEnabled {
			t.Errorf("allocated %d MiB", alloc>>20)
		}
		t.Logf("allocated %d MiB", alloc>>20)
	})
}

// Benchmarks: wall time per Read (ns/op) and memory: alloc-MiB is
// everything allocated during the Read, peak-MiB the highest live heap
// seen above the baseline (sampled every 200µs). Inputs are generated
// once, outside the timed loop.

func benchHostile(b *testing.B, open func() io.Reader, lim Limits, wantErr bool) {
	b.Helper()
	var peak, alloc uint64
	for b.Loop() {
		r := open()
		var err error
		p, a := measure(func() { _, err = Read(context.Background(), r, lim) })
		if (err != nil) != wantErr {
			b.Fatalf("err = %v", err)
		}
		peak, alloc = max(peak, p), max(alloc, a)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(alloc)/(1<<20), "alloc-MiB")
}

func measure(f func()) (peak, alloc uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > base && v-base > peak {
				peak = v - base
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&after)
	return peak, after.TotalAlloc - before.TotalAlloc
}

func BenchmarkHostileGzipBomb(b *testing.B) {
	zeros := zeroBomb(b, nil, tenGiB)
	entry := zeroBomb(b, tarHeaderOnly(b, "package/zero.bin", tenGiB), tenGiB)
	files := zeroFilesBomb(b, "package/zero.bin", 48<<20, 214)
	b.Run("zeros", func(b *testing.B) { benchHostile(b, zeros.open, Limits{}, true) })
	b.Run("zeros-no-ratio", func(b *testing.B) { benchHostile(b, zeros.open, Limits{MaxRatio: 1e12}, true) })
	b.Run("10GiB-entry", func(b *testing.B) { benchHostile(b, entry.open, Limits{}, true) })
	b.Run("48MiB-files", func(b *testing.B) { benchHostile(b, files.open, Limits{}, true) })
	b.Run("48MiB-files-no-ratio", func(b *testing.B) { benchHostile(b, files.open, Limits{MaxRatio: 1e12}, true) })
}

// generate runs a streaming generator to completion into memory.
func generate(b *testing.B, start func() (io.ReadCloser, <-chan error)) []byte {
	r, done := start()
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkHostileMillionEntries(b *testing.B) {
	data := generate(b, func() (io.ReadCloser, <-chan error) { return millionEntries(1_000_000) })
	b.Logf("a million entries: %d bytes compressed", len(data))
	open := func() io.Reader { return bytes.NewReader(data) }
	b.Run("defaults", func(b *testing.B) { benchHostile(b, open, Limits{}, true) })
	b.Run("all-read", func(b *testing.B) {
		benchHostile(b, open, Limits{MaxEntries: 2_000_000, MaxUncompressed: 1 << 30, MaxRatio: 1e12}, false)
	})
}

func BenchmarkHostileSingleLine100MB(b *testing.B) {
	data := generate(b, func() (io.ReadCloser, <-chan error) { return singleLine(100_000_000) })
	b.Logf("a 100 MB line: %d bytes compressed", len(data))
	open := func() io.Reader { return bytes.NewReader(data) }
	b.Run("defaults", func(b *testing.B) { benchHostile(b, open, Limits{}, false) })
	b.Run("loaded", func(b *testing.B) { benchHostile(b, open, Limits{MaxFileSize: 128 << 20}, false) })
}

func BenchmarkHostilePathsAndLinks(b *testing.B) {
	var es []ent
	for i := range 10_000 {
		es = append(es,
			file(fmt.Sprintf("package/../../../../tmp/x%d", i), "payload"),
			ent{Name: fmt.Sprintf("package/l%d", i), Type: tar.TypeSymlink, Link: "../../../../etc/passwd"},
			ent{Name: fmt.Sprintf("package/h%d", i), Type: tar.TypeLink, Link: "/etc/shadow"},
		)
	}
	data := tgz(b, es...)
	benchHostile(b, func() io.Reader { return bytes.NewReader(data) }, Limits{}, false)
}

func BenchmarkReadNpmPackage(b *testing.B) {
	data := npmPackage(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(context.Background(), bytes.NewReader(data), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
