// Package tarballtest builds package tarballs for tests, laid out the way
// npm pack writes them, so the bytes (and so their integrity) are the same
// on every run.
package tarballtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"slices"
	"testing"
	"time"
)

// NpmMtime is the modification time npm pack gives every entry.
var NpmMtime = time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)

// Pack returns a .tgz of files (path inside the package → contents): every
// entry under package/, sorted by path, mode 0644, NpmMtime, USTAR headers.
func Pack[T ~string | ~[]byte](t testing.TB, files map[string]T) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, n := range names {
		data := []byte(files[n])
		hdr := &tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: NpmMtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
