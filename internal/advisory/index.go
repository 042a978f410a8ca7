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
//	hash      hashSlots × (u32 name number + 1, u32 hash tag): open
//	          addressing with linear probing over FNV-1a of the name
//	records   recordCount × 32 bytes: where each record's JSON is in
//	          records.bin, its CRC, modified time, id, severity and flags
//	blob      per name: uvarint(len) name uvarint(#entries)
//	          { uvarint(record) uvarint(len) entry }   (entry: encode.go)
//	          per record: uvarint(len) id
//	          withdrawn ids: { uvarint(len) id varint(modified ns) }
//
// A lookup hashes the name, probes a few adjacent slots (a 32-bit tag
// rules out other names without touching the blob) and decodes only the
// entries of the name found; opening costs one read and a CRC.

const (
	indexMagic   = "VIGILIDX"
	indexVersion = 2
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
	slots := hashSlotsFor(len(names))
	table := make([]uint64, slots)
	for i, n := range names {
		h := fnv1a(n.name)
		for j := h & uint64(slots-1); ; j = (j + 1) & uint64(slots-1) {
			if table[j] == 0 {
				table[j] = uint64(i+1) | uint64(hashTag(h))<<32
				break
			}
		}
	}
	total := uint64(headerSize) + 4*uint64(len(names)) + 8*uint64(slots) + recRowSize*uint64(len(recs)) + uint64(blob.Len())
	if total > math.MaxUint32 {
		return corrupt("index would be %d bytes, more than the format's 4 GiB", total)
	}
	body := make([]byte, 0, total-headerSize)
	for _, off := range nameOffs {
		body = binary.LittleEndian.AppendUint32(body, off)
	}
	for _, slot := range table {
		body = binary.LittleEndian.AppendUint64(body, slot)
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
	binary.LittleEndian.PutUint32(hdr[36:], uint32(slots))
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
	hash                   []byte
	slots                  uint64
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
	x.slots = uint64(binary.LittleEndian.Uint32(data[36:]))
	if x.slots == 0 || x.slots&(x.slots-1) != 0 || x.slots <= uint64(x.nameCount) {
		return nil, corrupt("hash table of %d slots for %d names", x.slots, x.nameCount)
	}
	namesEnd := headerSize + 4*uint64(x.nameCount)
	hashEnd := namesEnd + 8*x.slots
	recsEnd := hashEnd + recRowSize*uint64(x.recordCount)
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
	x.hash = data[namesEnd:hashEnd]
	x.recs = data[hashEnd:recsEnd]
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

// find looks a name up in the hash table. Probing stops at an empty slot
// and never visits more slots than the table has, even when damaged.
func (x *index) find(name string) (dec, bool, error) {
	h := fnv1a(name)
	tag := hashTag(h)
	mask := x.slots - 1
	j := h & mask
	for range x.slots {
		slot := binary.LittleEndian.Uint64(x.hash[8*j:])
		n := uint32(slot)
		if n == 0 {
			return dec{}, false, nil
		}
		if uint32(slot>>32) == tag {
			if int(n-1) >= x.nameCount {
				return dec{}, false, corrupt("hash slot names %d of %d names", n-1, x.nameCount)
			}
			got, d := x.nameAt(int(n - 1))
			if d.err != nil {
				return dec{}, false, d.err
			}
			if string(got) == name {
				return d, true, nil
			}
		}
		j = (j + 1) & mask
	}
	return dec{}, false, nil
}

// hashSlotsFor sizes the table to a power of two with a load of at most
// 0.8; probes stay within one or two cache lines.
func hashSlotsFor(names int) int {
	slots := 8
	for slots < names+names/4+1 {
		slots <<= 1
	}
	return slots
}

// fnv1a is 64-bit FNV-1a: stable across builds and processes (unlike
// hash/maphash), as the table is stored on disk.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func hashTag(h uint64) uint32 { return uint32(h >> 32) }

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
