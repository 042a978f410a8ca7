package advisory

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
)

// index.bin holds everything a scan needs except the records' full JSON:
//
//	header    64 bytes (below)
//	names     nameCount × u32: offset in blob of each package name, sorted
//	records   recordCount × 32 bytes: where each record's JSON is in
//	          records.bin, its CRC, modified time, id, severity and flags
//	blob      per name: uvarint(len) name uvarint(#entries)
//	          { uvarint(record) uvarint(len) entry }   (entry: encode.go)
//	          per record: uvarint(len) id
//	          withdrawn ids: { uvarint(len) id varint(modified ns) }
//
// Lookups binary-search the fixed-width name table and decode only the
// entries of the name found, so opening costs one read and a CRC.

const (
	indexMagic   = "VIGILIDX"
	indexVersion = 1
	headerSize   = 64
	recRowSize   = 32

	flagMalicious = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recMeta is one row of the record table.
type recMeta struct {
	off      uint64 // in records.bin
	size     uint32
	crc      uint32
	modified int64  // unix nanoseconds, 0 when unknown
	idOff    uint32 // in blob
	sev      Severity
	flags    byte
}

type entryRef struct {
	rec   uint32
	entry []byte
}

type nameEntries struct {
	name    string
	entries []entryRef
}

type withdrawnID struct {
	id       string
	modified int64
}

// writeIndex writes index.bin. names must be sorted and unique, withdrawn
// sorted by id; recs[i].idOff is filled in here.
func writeIndex(w io.Writer, names []nameEntries, recs []recMeta, ids []string, withdrawn []withdrawnID) error {
	var blob bytes.Buffer
	nameOffs := make([]uint32, len(names))
	var tmp []byte
	for i, n := range names {
		nameOffs[i] = uint32(blob.Len())
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(n.name)))
		tmp = append(tmp, n.name...)
		tmp = binary.AppendUvarint(tmp, uint64(len(n.entries)))
		for _, e := range n.entries {
			tmp = binary.AppendUvarint(tmp, uint64(e.rec))
			tmp = binary.AppendUvarint(tmp, uint64(len(e.entry)))
			tmp = append(tmp, e.entry...)
		}
		blob.Write(tmp)
	}
	for i, id := range ids {
		recs[i].idOff = uint32(blob.Len())
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(id)))
		blob.Write(append(tmp, id...))
	}
	wOff := uint32(blob.Len())
	for _, wd := range withdrawn {
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(wd.id)))
		tmp = append(tmp, wd.id...)
		blob.Write(binary.AppendVarint(tmp, wd.modified))
	}
	total := uint64(headerSize) + 4*uint64(len(names)) + recRowSize*uint64(len(recs)) + uint64(blob.Len())
	if total > math.MaxUint32 {
		return corrupt("index would be %d bytes, more than the format's 4 GiB", total)
	}
	body := make([]byte, 0, total-headerSize)
	for _, off := range nameOffs {
		body = binary.LittleEndian.AppendUint32(body, off)
	}
	for _, r := range recs {
		body = binary.LittleEndian.AppendUint64(body, r.off)
		body = binary.LittleEndian.AppendUint32(body, r.size)
		body = binary.LittleEndian.AppendUint32(body, r.crc)
		body = binary.LittleEndian.AppendUint64(body, uint64(r.modified))
		body = binary.LittleEndian.AppendUint32(body, r.idOff)
		body = append(body, r.sev.code(), r.flags, 0, 0)
	}
	body = append(body, blob.Bytes()...)

	hdr := make([]byte, headerSize)
	copy(hdr, indexMagic)
	binary.LittleEndian.PutUint32(hdr[8:], indexVersion)
	binary.LittleEndian.PutUint32(hdr[12:], uint32(len(names)))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(len(recs)))
	binary.LittleEndian.PutUint32(hdr[20:], uint32(blob.Len()))
	binary.LittleEndian.PutUint32(hdr[24:], wOff)
	binary.LittleEndian.PutUint32(hdr[28:], uint32(len(withdrawn)))
	binary.LittleEndian.PutUint32(hdr[32:], crc32.Checksum(body, castagnoli))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// index is a parsed index.bin; every accessor checks bounds, so a damaged
// file yields ErrCorrupt, never a panic.
type index struct {
	nameCount, recordCount int
	names                  []byte
	recs                   []byte
	blob                   []byte
	withdrawnOff           int
	withdrawnCount         int
}

// parseIndex validates the header and section sizes; verify also checks
// the CRC of the body (fuzzing turns it off to reach the decoders).
func parseIndex(data []byte, verify bool) (*index, error) {
	if len(data) < headerSize || string(data[:8]) != indexMagic {
		return nil, corrupt("not a Vigil index (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != indexVersion {
		return nil, corrupt("index format %d, this build reads %d: re-run `vigil db import`", v, indexVersion)
	}
	x := &index{
		nameCount:      int(binary.LittleEndian.Uint32(data[12:])),
		recordCount:    int(binary.LittleEndian.Uint32(data[16:])),
		withdrawnOff:   int(binary.LittleEndian.Uint32(data[24:])),
		withdrawnCount: int(binary.LittleEndian.Uint32(data[28:])),
	}
	blobLen := uint64(binary.LittleEndian.Uint32(data[20:]))
	namesEnd := headerSize + 4*uint64(x.nameCount)
	recsEnd := namesEnd + recRowSize*uint64(x.recordCount)
	if recsEnd+blobLen != uint64(len(data)) {
		return nil, corrupt("index is %d bytes, header says %d", len(data), recsEnd+blobLen)
	}
	if uint64(x.withdrawnOff) > blobLen {
		return nil, corrupt("withdrawn list outside the index")
	}
	if verify && crc32.Checksum(data[headerSize:], castagnoli) != binary.LittleEndian.Uint32(data[32:]) {
		return nil, corrupt("index checksum mismatch")
	}
	x.names = data[headerSize:namesEnd]
	x.recs = data[namesEnd:recsEnd]
	x.blob = data[recsEnd:]
	return x, nil
}

// nameAt returns the i-th name and the decoder positioned at its entries.
func (x *index) nameAt(i int) ([]byte, dec) {
	off := binary.LittleEndian.Uint32(x.names[4*i:])
	if uint64(off) >= uint64(len(x.blob)) {
		return nil, dec{err: corrupt("name %d outside the index", i)}
	}
	d := dec{b: x.blob[off:]}
	name := d.bytes(d.count())
	return name, d
}

// find binary-searches the name table.
func (x *index) find(name string) (dec, bool, error) {
	lo, hi := 0, x.nameCount
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		n, d := x.nameAt(mid)
		if d.err != nil {
			return dec{}, false, d.err
		}
		switch {
		case string(n) == name:
			return d, true, nil
		case string(n) < name:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return dec{}, false, nil
}

// forEntries calls fn for each (record, entry) of a found name.
func forEntries(d dec, recordCount int, fn func(rec uint32, entry []byte) error) error {
	for n := d.count(); n > 0 && d.err == nil; n-- {
		rec := d.uvarint()
		entry := d.bytes(d.count())
		if d.err != nil {
			break
		}
		if rec >= uint64(recordCount) {
			return corrupt("entry names record %d of %d", rec, recordCount)
		}
		if err := fn(uint32(rec), entry); err != nil {
			return err
		}
	}
	return d.err
}

func (x *index) record(i uint32) (recMeta, error) {
	if int(i) >= x.recordCount {
		return recMeta{}, corrupt("record %d of %d", i, x.recordCount)
	}
	row := x.recs[int(i)*recRowSize:]
	return recMeta{
		off:      binary.LittleEndian.Uint64(row),
		size:     binary.LittleEndian.Uint32(row[8:]),
		crc:      binary.LittleEndian.Uint32(row[12:]),
		modified: int64(binary.LittleEndian.Uint64(row[16:])),
		idOff:    binary.LittleEndian.Uint32(row[24:]),
		sev:      severityFromCode(row[28]),
		flags:    row[29],
	}, nil
}

func (x *index) recordID(m recMeta) (string, error) {
	if uint64(m.idOff) >= uint64(len(x.blob)) {
		return "", corrupt("record id outside the index")
	}
	d := dec{b: x.blob[m.idOff:]}
	id := d.bytes(d.count())
	return string(id), d.err
}

// withdrawnIDs decodes the list of withdrawn ids with their modified times.
func (x *index) withdrawnIDs() (map[string]int64, error) {
	d := dec{b: x.blob[x.withdrawnOff:]}
	m := make(map[string]int64, min(x.withdrawnCount, len(d.b)/2))
	for i := 0; i < x.withdrawnCount && d.err == nil; i++ {
		id := d.bytes(d.count())
		mod, n := binary.Varint(d.b)
		if n <= 0 {
			d.fail("withdrawn list")
			break
		}
		d.b = d.b[n:]
		m[string(id)] = mod
	}
	return m, d.err
}
