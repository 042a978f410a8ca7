package tarball

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzRead feeds arbitrary bytes to Read, as they are (gzip, plain tar or
// garbage) or gzip-compressed first (so the fuzzer can work on tar headers
// directly), and checks that Read never panics, never exceeds its limits,
// classifies every error and only ever returns safe, unique paths.
func FuzzRead(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.tgz")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
		f.Add(data[:len(data)/2], false)
	}
	pkg := npmPackage(f)
	corrupt := bytes.Clone(pkg)
	corrupt[len(corrupt)/2] ^= 0x55
	f.Add(pkg, false)
	f.Add(pkg[:len(pkg)-3], false)
	f.Add(corrupt, false)
	f.Add(append(bytes.Clone(pkg), pkg...), false)
	seeds := [][]byte{
		tarOf(f, file("package/package.json", "{}"), ent{Name: "package/lib/", Type: tar.TypeDir}, file("evil/index.js", "x"), file("setup.js", "y")),
		tarOf(f, file("package/../../etc/passwd", "x"), ent{Name: "package/l", Type: tar.TypeSymlink, Link: "../../x"}, ent{Name: "package/h", Type: tar.TypeLink, Link: "/etc/passwd"}),
		tarOf(f, ent{Name: "package/" + strings.Repeat("long/", 40) + "x.js", Body: "x", Format: tar.FormatPAX}, ent{Name: "package/" + strings.Repeat("gnu/", 40) + "y.js", Body: "y", Format: tar.FormatGNU}),
		tarOf(f, ent{Name: "package/tty", Type: tar.TypeChar}, ent{Name: "package/p", Type: tar.TypeFifo}, ent{Name: "package/suid", Body: "s", Mode: 0o4777}),
		rawTar(rawEntry(rawHeader("package/index.js", 0, 3, func(b []byte) { clear(b[257:]) }), "old")),
	}
	for _, c := range parityCases(f) {
		seeds = append(seeds, c.tar)
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
		f.Add(s[:len(s)*2/3], true)
	}
	lim := Limits{MaxCompressed: 1 << 20, MaxUncompressed: 4 << 20, MaxEntries: 500, MaxPathLen: 300, MaxFileSize: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			data = gzFast(data)
		}
		a, err := Read(context.Background(), bytes.NewReader(data), lim)
		if err != nil {
			var le *LimitError
			var fe *FormatError
			if !errors.As(err, &le) && !errors.As(err, &fe) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			if a != nil {
				t.Fatal("an Archive with an error")
			}
			return
		}
		checkArchive(t, a, lim)
	})
}

// checkArchive asserts what every Archive promises.
func checkArchive(t *testing.T, a *Archive, lim Limits) {
	t.Helper()
	if a.Entries > lim.MaxEntries || a.UncompressedSize > lim.MaxUncompressed || a.CompressedSize > lim.MaxCompressed {
		t.Fatalf("over the limits: %d entries, %d/%d bytes", a.Entries, a.CompressedSize, a.UncompressedSize)
	}
	if len(a.Files)+len(a.Skipped) > a.Entries || len(a.Warnings) > maxWarnings {
		t.Fatalf("%d files + %d skipped of %d entries, %d warnings", len(a.Files), len(a.Skipped), a.Entries, len(a.Warnings))
	}
	var total int64
	for i, f := range a.Files {
		total += f.Size
		if f.Size != int64(len(f.Data)) || f.Size > lim.MaxFileSize || (f.Mode != 0o644 && f.Mode != 0o755) {
			t.Fatalf("%q: size %d, %d bytes, mode %v", f.Path, f.Size, len(f.Data), f.Mode)
		}
		if !safePath(f.Path) {
			t.Fatalf("unsafe path %q", f.Path)
		}
		if i > 0 && a.Files[i-1].Path >= f.Path {
			t.Fatalf("paths not sorted and unique: %q, %q", a.Files[i-1].Path, f.Path)
		}
		if g, ok := a.Get(f.Path); !ok || g != &a.Files[i] {
			t.Fatalf("Get(%q) does not find it", f.Path)
		}
	}
	if total > lim.MaxUncompressed {
		t.Fatalf("%d bytes loaded", total)
	}
	for _, s := range a.Skipped {
		if s.Reason == "" || len(s.Head) > headSize || s.Path != "" && !safePath(s.Path) {
			t.Fatalf("skipped %+v", s)
		}
	}
}

func safePath(p string) bool {
	if !fs.ValidPath(p) || p == "." || strings.IndexByte(p, 0) >= 0 || !utf8.ValidString(p) {
		return false
	}
	for seg := range segments(p) {
		if seg == ".." {
			return false
		}
	}
	return true
}

// gzFast compresses with a pooled writer: a new gzip.Writer allocates
// about a megabyte, which would dominate each fuzzing execution (and the
// fuzzer's input minimisation, which runs it thousands of times).
func gzFast(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzPool.Get().(*gzip.Writer)
	defer gzPool.Put(zw)
	zw.Reset(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

var gzPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

func BenchmarkFuzzBody(b *testing.B) {
	seed := tarOf(b, file("package/package.json", "{}"), file("package/index.js", "x"))
	lim := Limits{MaxCompressed: 1 << 20, MaxUncompressed: 4 << 20, MaxEntries: 500, MaxPathLen: 300, MaxFileSize: 64 << 10}
	for b.Loop() {
		Read(context.Background(), bytes.NewReader(gzFast(seed)), lim)
	}
}
