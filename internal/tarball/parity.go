package tarball

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Parity with node-tar.
//
// npm installs what node-tar reads; Vigil analyses what archive/tar reads.
// Where the two would frame the stream differently (where one sees file
// data and the other sees another header), an attacker can smuggle a file
// past the analysis: "tar interpretation conflicts", the bug class of
// node-tar's own 2025 fixes and of CVE-2025-62518 in Rust's tokio-tar. Go's
// reader is kept, and the raw header blocks it consumed for each entry are
// checked against the rules node-tar 7.5 applies (lib/header.js, parse.js):
//
//   - a header whose checksum is right only as a signed byte sum: Go
//     accepts it, node-tar skips the block and reads the file's data as
//     headers;
//   - numeric fields node-tar parses differently (a leading NUL makes the
//     size 0, base-256 with a first byte other than 0x80/0xff throws);
//   - a linkname on anything but a link ("linkpath forbidden": skipped);
//   - data declared by a link, device or FIFO (Go ignores the size,
//     node-tar reads the data), or by a "0" entry whose name ends in "/"
//     (node-tar makes it a directory);
//   - a global PAX header with a size (node-tar applies it to every later
//     entry), PAX values containing a newline (node-tar splits records on
//     newlines), a PAX size that is not plain digits;
//   - two extension headers of one kind, or a PAX header mixed with GNU
//     long names, which the two resolve in different orders;
//   - a name that node-tar would assemble differently from the raw block
//     (star's 131-byte prefix, for example).

// maxHeaderSeq bounds the extension headers checked for one entry; npm's
// are under 1 KiB and names are already capped by MaxPathLen.
const maxHeaderSeq = 64 << 10

func ambiguous(format string, args ...any) error {
	return &FormatError{Kind: ErrAmbiguous, Detail: fmt.Sprintf(format, args...), Offset: -1}
}

// checkParity checks seq, the raw bytes archive/tar consumed to return hdr:
// any extension headers (x, L, K) with their data and padding, then the
// entry's own header block; for a global PAX header, the block and its
// data.
func checkParity(seq []byte, hdr *tar.Header) error {
	var metas []byte
	pos := 0
	for {
		if len(seq)-pos < blockSize {
			return ambiguous("header framing of %q does not match archive/tar's", hdr.Name)
		}
		blk := seq[pos : pos+blockSize]
		if err := checkBlock(blk); err != nil {
			return fmt.Errorf("%w (entry %q)", err, hdr.Name)
		}
		t := blk[156]
		switch t {
		case tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			if bytes.IndexByte(metas, t) >= 0 {
				return ambiguous("two %q extension headers before %q: node-tar merges them, archive/tar keeps the last", t, hdr.Name)
			}
			metas = append(metas, t)
			size, err := sameNumber(blk[124:136], "size")
			if err != nil {
				return err
			}
			if size < 0 || size > int64(len(seq)) {
				return ambiguous("extension header size %d out of range", size)
			}
			pos += blockSize + int(size) + int(blockPadding(size))
			continue
		case tar.TypeXGlobalHeader:
			if pos != 0 || hdr.Typeflag != tar.TypeXGlobalHeader {
				return ambiguous("a global PAX header follows extension headers")
			}
			size, err := sameNumber(blk[124:136], "size")
			if err != nil {
				return err
			}
			if int64(len(seq)) != blockSize+size {
				return ambiguous("global PAX header framing does not match archive/tar's")
			}
			if _, ok := hdr.PAXRecords["size"]; ok {
				return ambiguous("a global PAX header sets the size of every later entry in node-tar, of none in archive/tar")
			}
			return checkPAXValues(hdr)
		}
		if pos+blockSize != len(seq) {
			return ambiguous("header framing of %q does not match archive/tar's", hdr.Name)
		}
		return checkFinal(blk, metas, hdr)
	}
}

func checkFinal(blk []byte, metas []byte, hdr *tar.Header) error {
	hasX := bytes.IndexByte(metas, tar.TypeXHeader) >= 0
	if hasX && len(metas) > 1 {
		return ambiguous("PAX and GNU long-name headers both name %q; node-tar and archive/tar give them different precedence", hdr.Name)
	}
	if err := checkPAXValues(hdr); err != nil {
		return err
	}
	t := blk[156]
	if link := cString(blk[157:257]); link != "" && t != tar.TypeLink && t != tar.TypeSymlink {
		return ambiguous("%q of type %q has a link target; node-tar skips such a header and reads its data as headers", hdr.Name, t)
	}
	// The size node-tar frames the entry with.
	var nodeSize int64
	if v, ok := hdr.PAXRecords["size"]; ok && hasX {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !allDigits(v) {
			return ambiguous("PAX size %q of %q", truncate(v, 40), hdr.Name)
		}
		nodeSize = n
	} else {
		n, err := sameNumber(blk[124:136], "size")
		if err != nil {
			return err
		}
		nodeSize = n
	}
	switch {
	case t == tar.TypeDir:
		// Both readers ignore a directory's size.
	case t == tar.TypeLink, t == tar.TypeSymlink, t == tar.TypeChar, t == tar.TypeBlock, t == tar.TypeFifo:
		if nodeSize != 0 {
			return ambiguous("%q of type %q declares %d bytes: archive/tar reads none, node-tar reads them", hdr.Name, t, nodeSize)
		}
	case (t == tar.TypeReg || t == typeV7Reg) && strings.HasSuffix(hdr.Name, "/"):
		if nodeSize != 0 {
			return ambiguous("%q ends in \"/\" and declares %d bytes: node-tar reads a directory, archive/tar a file", hdr.Name, nodeSize)
		}
	default:
		if nodeSize != hdr.Size {
			return ambiguous("%q has size %d for archive/tar, %d for node-tar", hdr.Name, hdr.Size, nodeSize)
		}
	}
	_, paxPath := hdr.PAXRecords["path"]
	if !(hasX && paxPath) && bytes.IndexByte(metas, tar.TypeGNULongName) < 0 {
		if !nodeNameIs(blk, hdr.Name) {
			name := nodeName(blk)
			return ambiguous("the header names %q for archive/tar, %q for node-tar", truncate(hdr.Name, 80), truncate(name, 80))
		}
	}
	return nil
}

func checkPAXValues(hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		if strings.IndexByte(v, '\n') >= 0 {
			return ambiguous("PAX record %q of %q contains a newline, which node-tar reads as a record separator", truncate(k, 40), hdr.Name)
		}
	}
	return nil
}

// checkBlock applies node-tar's checks to one raw header block.
func checkBlock(blk []byte) error {
	var sum int64 = 8 * ' '
	for i, c := range blk {
		if i < 148 || i >= 156 {
			sum += int64(c)
		}
	}
	if v, ok := nodeNumber(blk[148:160]); !ok || v != sum {
		return ambiguous("header checksum that only a signed byte sum matches; node-tar skips the header")
	}
	fields := [9][2]int{{100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}}
	n := 5
	if string(blk[257:265]) == "ustar\x0000" {
		fields[5], fields[6] = [2]int{329, 8}, [2]int{337, 8}
		n = 7
		if blk[475] == 0 {
			fields[7], fields[8] = [2]int{476, 12}, [2]int{488, 12}
			n = 9
		}
	}
	for _, f := range fields[:n] {
		if nodeThrows(blk[f[0] : f[0]+f[1]]) {
			return ambiguous("a base-256 header field node-tar rejects")
		}
	}
	return nil
}

// sameNumber parses a numeric header field the way both readers do and
// fails when they disagree.
func sameNumber(field []byte, what string) (int64, error) {
	g, gok := goNumber(field)
	n, nok := nodeNumber(field)
	if nodeThrows(field) {
		nok = false
	}
	if !nok {
		n = 0 // node-tar: NaN and negative sizes become "no size"
	}
	if !gok || g != n {
		return 0, ambiguous("%s field %q reads as %d in archive/tar and %d in node-tar", what, truncate(string(field), 20), g, n)
	}
	return g, nil
}

// goNumber mirrors archive/tar's parseNumeric.
func goNumber(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var inv byte
		if b[0]&0x40 != 0 {
			inv = 0xff
		}
		var x uint64
		for i, c := range b {
			c ^= inv
			if i == 0 {
				c &= 0x7f
			}
			if x>>56 > 0 {
				return 0, false
			}
			x = x<<8 | uint64(c)
		}
		if x>>63 > 0 {
			return 0, false
		}
		if inv == 0xff {
			return ^int64(x), true
		}
		return int64(x), true
	}
	b = bytes.Trim(b, " \x00")
	if len(b) == 0 {
		return 0, true
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	x, err := strconv.ParseUint(string(b), 8, 64)
	return int64(x), err == nil
}

// nodeNumber mirrors node-tar's decNumber for octal fields: cut at the
// first NUL, trim whitespace, parseInt(s, 8), which reads an optional
// sign and the longest run of octal digits. ok is false where node-tar
// gets NaN or a negative number, which it treats as absent.
func nodeNumber(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		v, ok := nodeBase256(b)
		return v, ok && v >= 0
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	s := strings.TrimFunc(string(b), isJSSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '7' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:end], 8, 64)
	if err != nil || v > 1<<53 || neg && v != 0 {
		return 0, false
	}
	return v, true
}

// nodeThrows reports whether node-tar's base-256 parser throws on the field
// (making the whole header invalid).
func nodeThrows(b []byte) bool {
	if len(b) == 0 || b[0]&0x80 == 0 {
		return false
	}
	_, ok := nodeBase256(b)
	return !ok
}

// nodeBase256 mirrors node-tar's large-numbers parse: 0x80 prefixes a
// positive big-endian number, 0xff a negative two's complement one; any
// other prefix, or a value past 2^53, throws.
func nodeBase256(b []byte) (int64, bool) {
	var v big.Int
	switch b[0] {
	case 0x80:
		v.SetBytes(b[1:])
	case 0xff:
		v.SetBytes(b)
		v.Sub(&v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	default:
		return 0, false
	}
	limit := big.NewInt(1<<53 - 1)
	if new(big.Int).Abs(&v).Cmp(limit) > 0 {
		return 0, false
	}
	return v.Int64(), true
}

// nodeName assembles an entry's name from its raw block as node-tar does.
func nodeName(blk []byte) string {
	name := cString(blk[0:100])
	if string(blk[257:265]) == "ustar\x0000" {
		var prefix string
		if blk[475] != 0 {
			prefix = cString(blk[345:500])
			name = prefix + "/" + name
		} else if prefix = cString(blk[345:475]); prefix != "" {
			name = prefix + "/" + name
		}
	}
	return name
}

// nodeNameIs reports whether nodeName(blk) == name, without allocating.
func nodeNameIs(blk []byte, name string) bool {
	base := cBytes(blk[0:100])
	if string(blk[257:265]) == "ustar\x0000" {
		var prefix []byte
		join := blk[475] != 0
		if join {
			prefix = cBytes(blk[345:500])
		} else {
			prefix = cBytes(blk[345:475])
			join = len(prefix) > 0
		}
		if join {
			return len(name) == len(prefix)+1+len(base) && name[:len(prefix)] == string(prefix) &&
				name[len(prefix)] == '/' && name[len(prefix)+1:] == string(base)
		}
	}
	return string(base) == name
}

func cBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// isJSSpace is the set String.prototype.trim removes.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

const blockSize = 512

func blockPadding(n int64) int64 { return -n & (blockSize - 1) }

// typeV7Reg is the raw type byte of a regular file in old V7 headers
// (archive/tar's deprecated TypeRegA, reported as TypeReg).
const typeV7Reg = '\x00'
