package tarball

// Test-only builders for tarballs, benign and hostile. Everything hostile
// is generated here, at test time; nothing hostile is committed.

import (
	"archive/tar"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

var epoch = time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC) // what npm pack writes

// ent is one entry for tarOf. Body sets the data; Size alone declares a
// size (for headers whose data the test writes itself).
type ent struct {
	Name   string
	Body   string
	Type   byte
	Mode   int64
	Link   string
	PAX    map[string]string
	Format tar.Format
}

func file(name, body string) ent { return ent{Name: name, Body: body} }

// tarOf writes entries with archive/tar's writer.
func tarOf(t testing.TB, es ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{
			Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Link,
			ModTime: epoch, PAXRecords: e.PAX, Format: e.Format,
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("writing %q: %v", e.Name, err)
		}
		if _, err := io.WriteString(tw, e.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tgz(t testing.TB, es ...ent) []byte { return gz(t, tarOf(t, es...)) }

// npmPackage is a small package as npm pack lays it out.
func npmPackage(t testing.TB) []byte {
	return tgz(t,
		file("package/package.json", `{"name":"demo","version":"1.0.0","main":"index.js","bin":{"demo":"bin/cli.js"}}`),
		file("package/index.js", "module.exports = require('./lib/util/sum.js')\n"),
		file("package/lib/util/sum.js", "module.exports = (a, b) => a + b\n"),
		ent{Name: "package/bin/cli.js", Body: "#!/usr/bin/env node\nconsole.log(require('..')(1, 2))\n", Mode: 0o755},
		file("package/README.md", "# demo\n"),
	)
}

// rawHeader builds one tar header block by hand, for the header shapes
// archive/tar's writer refuses to produce. fix, when set, edits the block
// before the checksum is computed.
func rawHeader(name string, typ byte, size int64, fix func(b []byte)) []byte {
	b := make([]byte, blockSize)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", epoch.Unix()))
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	if fix != nil {
		fix(b)
	}
	setChecksum(b, false)
	return b
}

// setChecksum writes the unsigned (standard) or signed byte sum.
func setChecksum(b []byte, signed bool) {
	copy(b[148:156], "        ")
	var u, s int64
	for _, c := range b {
		u += int64(c)
		s += int64(int8(c))
	}
	v := u
	if signed {
		v = s
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", v))
}

// rawEntry is a header followed by body and padding.
func rawEntry(hdr []byte, body string) []byte {
	out := append(bytes.Clone(hdr), body...)
	return append(out, make([]byte, blockPadding(int64(len(body))))...)
}

// rawTar concatenates entries and the end-of-archive marker.
func rawTar(parts ...[]byte) []byte {
	out := bytes.Join(parts, nil)
	return append(out, make([]byte, 2*blockSize)...)
}

// paxData encodes PAX records in order (archive/tar's writer sorts and
// validates them; hostile headers need neither).
func paxData(kv ...string) string {
	var sb strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		size := len(k) + len(v) + 3 // ' ', '=', '\n'
		size += len(strconv.Itoa(size))
		rec := strconv.Itoa(size) + " " + k + "=" + v + "\n"
		if len(rec) != size { // the length grew a digit
			rec = strconv.Itoa(len(rec)) + " " + k + "=" + v + "\n"
		}
		sb.WriteString(rec)
	}
	return sb.String()
}

// bomb is a gzip stream assembled from a few compressed chunks, the middle
// one repeated; open returns a fresh reader over it, cheaply.
type bomb struct {
	first, again, final []byte
	reps                int64
	trailer             func() []byte
}

func (b *bomb) open() io.Reader {
	header := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	return io.MultiReader(bytes.NewReader(header), bytes.NewReader(b.first),
		&repeat{chunk: b.again, left: b.reps}, bytes.NewReader(b.final), &lazy{make: b.trailer})
}

// zeroBomb is a valid gzip stream that inflates to prefix followed by n
// zero bytes (n a positive multiple of 1 MiB) without ever holding or
// compressing n bytes: deflate back-references are position-independent,
// so the compressed form of "1 MiB more zeros after zeros" can be repeated.
// The gzip trailer (CRC-32 of the whole output) is computed only if a
// reader gets that far.
func zeroBomb(t testing.TB, prefix []byte, n int64) *bomb {
	t.Helper()
	const unit = 1 << 20
	if n < unit || n%unit != 0 {
		t.Fatalf("zeroBomb: n=%d is not a positive multiple of 1 MiB", n)
	}
	zeros := make([]byte, unit)
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	cut := func() []byte {
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		b := bytes.Clone(buf.Bytes())
		buf.Reset()
		return b
	}
	fw.Write(prefix)
	fw.Write(zeros)
	first := cut()
	fw.Write(zeros)
	again := cut()
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	trailer := func() []byte {
		crc := crc32.ChecksumIEEE(prefix)
		for range n / unit {
			crc = crc32.Update(crc, crc32.IEEETable, zeros)
		}
		out := binary.LittleEndian.AppendUint32(nil, crc)
		return binary.LittleEndian.AppendUint32(out, uint32(int64(len(prefix))+n))
	}
	return &bomb{first: first, again: again, final: bytes.Clone(buf.Bytes()), reps: n/unit - 1, trailer: trailer}
}

// zeroFilesBomb is a gzip stream of count tar entries, each named name and
// holding size zero bytes (size a multiple of 1 MiB), built like zeroBomb
// from one compressed entry repeated.
func zeroFilesBomb(t testing.TB, name string, size int64, count int) *bomb {
	t.Helper()
	hdr := tarHeaderOnly(t, name, size)
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	unit := func() []byte {
		fw.Write(hdr)
		for range size >> 20 {
			fw.Write(zeros)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		b := bytes.Clone(buf.Bytes())
		buf.Reset()
		return b
	}
	first := unit()
	again := unit()
	fw.Write(make([]byte, 2*blockSize))
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing reads this far; a wrong trailer would only fail the checksum.
	return &bomb{first: first, again: again, final: bytes.Clone(buf.Bytes()), reps: int64(count - 1),
		trailer: func() []byte { return make([]byte, 8) }}
}

// tarHeaderOnly is the header archive/tar writes for a file of size bytes.
func tarHeaderOnly(t testing.TB, name string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes()) // WriteHeader has flushed the header; no data yet
}

type repeat struct {
	chunk []byte
	left  int64
	off   int
}

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.chunk[r.off:])
		n += c
		r.off += c
		if r.off == len(r.chunk) {
			r.off = 0
			r.left--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

type lazy struct {
	make func() []byte
	r    *bytes.Reader
}

func (l *lazy) Read(p []byte) (int, error) {
	if l.r == nil {
		l.r = bytes.NewReader(l.make())
	}
	return l.r.Read(p)
}

// countingReader counts what the code under test pulled from a source.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// streamTgz runs write in a goroutine and returns a reader of the gzip
// stream it produces through a pipe, so hostile archives larger than memory
// never exist in memory; closing the returned reader stops the writer.
func streamTgz(write func(tw *tar.Writer) error) (io.ReadCloser, <-chan error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	return pr, done
}

// noise fills p with printable, newline-free, poorly compressible bytes.
type noise struct{ s uint64 }

func (r *noise) Read(p []byte) (int, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range p {
		r.s ^= r.s << 13
		r.s ^= r.s >> 7
		r.s ^= r.s << 17
		p[i] = alphabet[r.s&63]
	}
	return len(p), nil
}
