package tarball

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Read reads a package tarball from r into memory. r is read to the end of
// the gzip stream (never further than lim.MaxCompressed); nothing is
// written to disk. Limit violations return a *LimitError, malformed or
// refused input a *FormatError, and cancellation ctx's error.
func Read(ctx context.Context, r io.Reader, lim Limits) (*Archive, error) {
	lim = lim.withDefaults()
	in := &inputCounter{r: r, max: lim.MaxCompressed}
	sc := scratchPool.Get().(*scratch)
	defer func() {
		sc.br.Reset(nil) // keep no reference to r
		scratchPool.Put(sc)
	}()
	sc.br.Reset(in)
	rd := &reader{
		ctx:  ctx,
		lim:  lim,
		in:   in,
		br:   sc.br,
		sc:   sc,
		a:    &Archive{},
		seen: map[string]int{},
	}
	err := rd.read()
	rd.a.CompressedSize = in.n
	if rd.s != nil {
		rd.a.UncompressedSize = rd.s.n
	}
	if err != nil {
		return nil, rd.classify(err)
	}
	rd.a.finish(rd.seen)
	return rd.a, nil
}

// scratch is the per-Read state worth reusing: the input buffer and the
// inflater with its 32 KiB window. Reading thousands of small tarballs
// (a lockfile's worth) would otherwise allocate ~100 KiB for each.
type scratch struct {
	br  *bufio.Reader
	zr  *gzip.Reader // nil until the first gzip stream
	buf []byte
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{br: bufio.NewReaderSize(nil, 32<<10), buf: make([]byte, 8<<10)}
}}

type reader struct {
	ctx  context.Context
	sc   *scratch
	lim  Limits
	in   *inputCounter
	br   *bufio.Reader
	zr   *gzip.Reader // nil for a plain tar
	s    *stream
	a    *Archive
	seen map[string]int // File.Path → index in a.Files

	rootSet bool
	prevEnd int64 // stream offset where the previous entry's data and padding end
}

var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZip   = []byte("PK\x03\x04")
)

func (rd *reader) read() error {
	magic, _ := rd.br.Peek(6)
	switch {
	case len(magic) == 0:
		if rd.in.err != nil {
			return rd.in.err
		}
		return &FormatError{Kind: ErrFormat, Detail: "empty input", Offset: -1}
	case bytes.HasPrefix(magic, magicGzip):
		zr := rd.sc.zr
		if zr == nil {
			var err error
			if zr, err = gzip.NewReader(rd.br); err != nil {
				return err
			}
			rd.sc.zr = zr
		} else if err := zr.Reset(rd.br); err != nil {
			return err
		}
		// npm tarballs are one gzip member. node's zlib would go on to
		// read a second one; Vigil stops and refuses it (see drain).
		zr.Multistream(false)
		rd.zr = zr
		rd.s = &stream{rd: rd, r: zr, rec: make([]byte, 0, 2*blockSize)}
	case bytes.HasPrefix(magic, magicZstd):
		// node-tar 7 auto-detects zstd, so npm would install such a
		// tarball; npm publish never makes one.
		return &FormatError{Kind: ErrUnsupported, Detail: "zstd-compressed tarball", Offset: -1}
	default:
		// node-tar also reads uncompressed tar; accept it, with a warning,
		// when the first block is a valid header (checked before the
		// magic numbers below: a file name can start with "BZh").
		if blk, _ := rd.br.Peek(blockSize); len(blk) == blockSize && plausibleHeader(blk) {
			rd.a.warn(WarnNotCompressed, "", "the tarball is not gzip-compressed")
			rd.s = &stream{rd: rd, r: rd.br, rec: make([]byte, 0, 2*blockSize)}
			break
		}
		detail := "neither gzip-compressed nor a tar archive"
		switch {
		case bytes.HasPrefix(magic, magicBzip2), bytes.HasPrefix(magic, magicXz):
			detail = "bzip2 or xz compression, which npm does not read"
		case bytes.HasPrefix(magic, magicZip):
			detail = "a zip archive"
		}
		return &FormatError{Kind: ErrFormat, Detail: detail, Offset: -1}
	}
	if err := rd.entries(tar.NewReader(rd.s)); err != nil {
		return err
	}
	return rd.drain()
}

func plausibleHeader(blk []byte) bool {
	v, ok := goNumber(blk[148:156])
	if !ok {
		return false
	}
	var unsigned, signed int64
	for i, c := range blk {
		if 148 <= i && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return v == unsigned || v == signed
}

func (rd *reader) entries(tr *tar.Reader) error {
	lim, a, s := &rd.lim, rd.a, rd.s
	for {
		if err := rd.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		a.Entries++
		if a.Entries > lim.MaxEntries {
			return &LimitError{Limit: LimitEntries, Max: float64(lim.MaxEntries), Value: float64(a.Entries)}
		}
		if n := max(len(hdr.Name), len(hdr.Linkname)); n > lim.MaxPathLen {
			return &LimitError{Limit: LimitPathLen, Max: float64(lim.MaxPathLen), Value: float64(n), Path: hdr.Name}
		}
		if hdr.Typeflag == tar.TypeGNUSparse || hasSparsePAX(hdr) {
			// node-tar ignores type S and installs PAX sparse files raw,
			// archive/tar expands them: no reading agrees with npm's.
			return &FormatError{Kind: ErrUnsupported, Detail: fmt.Sprintf("sparse file %q", truncate(hdr.Name, 120)), Offset: -1}
		}
		seqLen := s.n - rd.prevEnd
		if seqLen > maxHeaderSeq || s.recOver {
			return &FormatError{Kind: ErrUnsupported, Detail: fmt.Sprintf("%d bytes of extension headers for %q", seqLen, truncate(hdr.Name, 120)), Offset: -1}
		}
		if s.recFrom != rd.prevEnd || int64(len(s.rec)) != seqLen {
			return ambiguous("header framing of %q does not match archive/tar's", hdr.Name)
		}
		if err := checkParity(s.rec, hdr); err != nil {
			return err
		}

		// Where this entry's data and padding end: the next header's
		// sequence starts there.
		var physical int64
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			// archive/tar has read the data already; the padding remains.
			physical = 0
			rd.prevEnd = s.n + blockPadding(seqLen-blockSize)
		case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
			rd.prevEnd = s.n // archive/tar reads no data for these
		default:
			physical = hdr.Size
			rd.prevEnd = s.n + physical + blockPadding(physical)
		}
		if hdr.Name == "" && physical > 0 {
			return ambiguous("an entry without a name declares %d bytes; node-tar skips its header and reads the data as headers", physical)
		}
		// Fail before inflating a declared size that cannot fit: a 10 GB
		// entry is refused at its header.
		if physical > 0 && rd.prevEnd > lim.MaxUncompressed {
			return &LimitError{Limit: LimitUncompressed, Max: float64(lim.MaxUncompressed), Value: float64(rd.prevEnd), Path: hdr.Name}
		}
		s.record(rd.prevEnd)
		if err := rd.entry(tr, hdr); err != nil {
			return err
		}
	}
}

func hasSparsePAX(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

func (rd *reader) entry(tr *tar.Reader, hdr *tar.Header) error {
	a, name, typ := rd.a, hdr.Name, hdr.Typeflag
	rec := Skipped{Name: name, Type: typ, Size: hdr.Size, Linkname: hdr.Linkname}
	if typ == tar.TypeXGlobalHeader {
		rec.Reason = ReasonPAXGlobal
		a.Skipped = append(a.Skipped, rec)
		return nil
	}
	ep := splitName(name)
	if ep.problem != "" {
		rec.Reason, rec.Escapes = ReasonUnsafePath, ep.escapes
		a.Skipped = append(a.Skipped, rec)
		a.warn(WarnUnsafePath, name, "the name %s; npm refuses to install it", ep.problem)
		return nil
	}
	if !strings.Contains(name, "/") || ep.top == "" {
		// A root-level entry names no top-level folder, nor does an
		// absolute name.
	} else if !rd.rootSet {
		a.Root, rd.rootSet = ep.top, true
	} else if ep.top != a.Root {
		a.warn(WarnForeignRoot, name, "under top-level folder %q, not %q; npm strips it all the same and installs %q", ep.top, a.Root, ep.rel)
	}
	if ep.absolute {
		a.warn(WarnAbsolutePath, name, "absolute name; npm strips the root and installs %q", ep.rel)
	}
	if ep.backslash {
		a.warn(WarnBackslash, name, "contains a backslash, a path separator on Windows")
	}
	rec.Path = ep.rel

	switch {
	case typ == tar.TypeReg && strings.HasSuffix(name, "/"), typ == tar.TypeDir, typ == typeGNUDumpDir:
		// node-tar turns a "0" entry ending in "/" into a directory.
		rec.Reason = ReasonDirectory
	case typ == tar.TypeReg, typ == tar.TypeCont: // archive/tar reports V7 files ("\x00") as TypeReg
		if ep.rel == "" {
			rec.Reason = ReasonOutsidePackage
			a.warn(WarnOutsidePackage, name, "a file outside any top-level folder; npm does not install it")
			break
		}
		return rd.regular(tr, hdr, ep.rel, rec)
	case typ == tar.TypeSymlink:
		rec.Reason = ReasonSymlink
		rec.Escapes = linkEscapes(path.Dir(ep.rel), hdr.Linkname)
		rd.warnLink(rec, "symlink")
	case typ == tar.TypeLink:
		// node-tar strips the first component of a hard link's target too.
		rec.Reason = ReasonHardlink
		_, target, _ := strings.Cut(hdr.Linkname, "/")
		rec.Escapes = isAbs(hdr.Linkname) || linkEscapes("", target)
		rd.warnLink(rec, "hard link")
	case typ == tar.TypeChar, typ == tar.TypeBlock:
		rec.Reason = ReasonDevice
		a.warn(WarnSpecialFile, name, "a device file; npm does not install it")
	case typ == tar.TypeFifo:
		rec.Reason = ReasonFIFO
		a.warn(WarnSpecialFile, name, "a named pipe; npm does not install it")
	default:
		rec.Reason = ReasonUnsupportedType
		a.warn(WarnUnsupportedType, name, "tar entry type %q, which npm ignores", typ)
	}
	a.Skipped = append(a.Skipped, rec)
	return nil
}

func (rd *reader) warnLink(rec Skipped, kind string) {
	if rec.Escapes {
		rd.a.warn(WarnLinkEscapes, rec.Name, "a %s to %q, outside the package; npm does not install links", kind, truncate(rec.Linkname, 120))
		return
	}
	rd.a.warn(WarnLink, rec.Name, "a %s to %q; npm does not install links", kind, truncate(rec.Linkname, 120))
}

func (rd *reader) regular(tr *tar.Reader, hdr *tar.Header, rel string, rec Skipped) error {
	a := rd.a
	if hdr.Size > rd.lim.MaxFileSize {
		head := make([]byte, min(hdr.Size, headSize))
		if _, err := io.ReadFull(tr, head); err != nil {
			return err
		}
		rec.Reason, rec.Head = ReasonTooLarge, head
		a.Skipped = append(a.Skipped, rec)
		a.warn(WarnTooLarge, hdr.Name, "%d bytes, over the %d-byte file size limit: contents not loaded", hdr.Size, rd.lim.MaxFileSize)
		return nil
	}
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	if hdr.Mode&(0o4000|0o2000) != 0 {
		a.warn(WarnSetuid, hdr.Name, "mode %#o has setuid/setgid bits", hdr.Mode)
	}
	f := File{Path: rel, Mode: mode, Size: hdr.Size, Data: data}
	if i, ok := rd.seen[rel]; ok {
		a.warn(WarnDuplicate, hdr.Name, "%q appears more than once; the last entry wins, as when npm extracts", rel)
		a.Files[i] = f
		return nil
	}
	rd.seen[rel] = len(a.Files)
	a.Files = append(a.Files, f)
	return nil
}

// drain reads past the tar end-of-archive marker to the end of the gzip
// member (record padding, NULs in every tarball npm makes), then makes
// sure nothing follows the gzip stream.
func (rd *reader) drain() error {
	buf := rd.sc.buf
	var nonzero int64
	for {
		n, err := rd.s.Read(buf)
		nonzero += int64(n - countZeros(buf[:n]))
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if nonzero > 0 {
		rd.a.warn(WarnTrailingData, "", "%d non-zero bytes after the tar end-of-archive marker; npm ignores them", nonzero)
	}
	if rd.zr == nil {
		return nil
	}
	if next, _ := rd.br.Peek(len(magicGzip)); bytes.Equal(next, magicGzip) {
		return &FormatError{Kind: ErrTrailingData, Detail: "a second gzip member follows, which npm would read as more of the archive", Offset: rd.consumed()}
	}
	var zeros, total int64
	for {
		b, err := rd.br.Peek(rd.br.Size())
		if len(b) == 0 {
			if err != nil && err != io.EOF {
				return err
			}
			break
		}
		zeros += int64(countZeros(b))
		total += int64(len(b))
		if zeros != total {
			return &FormatError{Kind: ErrTrailingData, Detail: "garbage after the gzip stream", Offset: rd.consumed()}
		}
		if _, err := rd.br.Discard(len(b)); err != nil {
			return err
		}
	}
	if total > 0 {
		// gzip(1) tolerates trailing NULs from block-padded media; so does Vigil.
		rd.a.warn(WarnTrailingData, "", "%d NUL bytes after the gzip stream", total)
	}
	return nil
}

func countZeros(b []byte) int {
	n := 0
	for _, c := range b {
		if c == 0 {
			n++
		}
	}
	return n
}

// consumed is the compressed bytes the decompressor has used.
func (rd *reader) consumed() int64 { return rd.in.n - int64(rd.br.Buffered()) }

// classify turns any error from reading into the package's error types.
func (rd *reader) classify(err error) error {
	// A cancelled context or a failing input explains whatever error
	// followed from it.
	if ctxErr := rd.ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return fmt.Errorf("tarball: reading stopped: %w", err)
	}
	if rd.in.err != nil {
		return fmt.Errorf("tarball: reading input: %w", rd.in.err)
	}
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		if fe.Offset < 0 {
			fe.Offset = rd.consumed()
		}
		return fe
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FormatError{Kind: ErrTruncated, Detail: "unexpected end of input", Offset: rd.consumed()}
	}
	return &FormatError{Kind: ErrCorrupt, Offset: rd.consumed(), Err: err}
}

// inputCounter counts and caps the compressed bytes read.
type inputCounter struct {
	r   io.Reader
	n   int64
	max int64
	err error // the first read error other than io.EOF
}

func (c *inputCounter) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, &LimitError{Limit: LimitCompressed, Max: float64(c.max), Value: float64(c.n)}
	}
	if rem := c.max + 1 - c.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	if c.n > c.max {
		return n, &LimitError{Limit: LimitCompressed, Max: float64(c.max), Value: float64(c.n)}
	}
	return n, err
}

// stream is the decompressed tar stream: it counts bytes, enforces the
// uncompressed size and ratio limits on every read, honours the context,
// and records the bytes from offset recFrom on (the next entry's header
// blocks) for the parity checks.
type stream struct {
	rd      *reader
	r       io.Reader
	n       int64
	err     error // sticky once a limit is hit
	rec     []byte
	recFrom int64
	recOver bool // more than maxHeaderSeq bytes since recFrom
}

// record starts recording afresh at offset from; archive/tar never reads
// ahead, so nothing past from has been read yet.
func (s *stream) record(from int64) {
	s.rec, s.recFrom, s.recOver = s.rec[:0], from, false
}

func (s *stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.rd.ctx.Err(); err != nil {
		return 0, err
	}
	lim := &s.rd.lim
	if rem := lim.MaxUncompressed + 1 - s.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := s.r.Read(p)
	if end := s.n + int64(n); end > s.recFrom && !s.recOver {
		b := p[max(0, s.recFrom-s.n):n]
		if len(s.rec)+len(b) > maxHeaderSeq {
			s.recOver = true
		} else {
			s.rec = append(s.rec, b...)
		}
	}
	s.n += int64(n)
	if s.n > lim.MaxUncompressed {
		s.err = &LimitError{Limit: LimitUncompressed, Max: float64(lim.MaxUncompressed), Value: float64(s.n)}
		return n, s.err
	}
	if s.n >= ratioGrace {
		if c := s.rd.consumed(); c > 0 && float64(s.n) > lim.MaxRatio*float64(c) {
			s.err = &LimitError{Limit: LimitRatio, Max: lim.MaxRatio, Value: float64(s.n) / float64(c)}
			return n, s.err
		}
	}
	return n, err
}

// typeGNUDumpDir is GNU tar's directory-with-listing type, which
// archive/tar does not name; node-tar treats it as a directory.
const typeGNUDumpDir = 'D'
