package advisory

import (
	"bytes"
	"context"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// snapshot holds curated real OSV records shipped inside the binary, plus
// the optional lastgood.json (package → {affected version → last good
// version before it}).
//
//go:embed snapshot/*.json
var snapshot embed.FS

// prebuilt is snapshot/ already built into an index (see
// buildSnapshotBlob), so a scan does not decode hundreds of JSON records
// at startup. It is checked against a digest of snapshot/ and ignored when
// stale; TestSnapshotPrebuilt fails until it is regenerated.
//
//go:generate go test -run ^TestSnapshotPrebuilt$ -update
//go:embed snapshot.db
var prebuilt []byte

const (
	lastGoodFile  = "lastgood.json"
	snapshotDir   = "snapshot"
	snapshotName  = "embedded snapshot"
	snapMagic     = "VIGILSNP"
	snapVersion   = 1
	snapHeaderLen = 40
)

var (
	embeddedOnce sync.Once
	embeddedDB   *DB
	embeddedErr  error

	lastGoodOnce sync.Once
	lastGoodMap  map[string]map[string]string
	lastGoodErr  error
)

// OpenEmbedded returns the database of the embedded snapshot, built once
// and shared; Close on it does nothing.
func OpenEmbedded() (*DB, error) {
	embeddedOnce.Do(func() {
		embeddedDB, embeddedErr = openFS(context.Background(), snapshot, snapshotDir, snapshotName, prebuilt)
		if embeddedErr == nil {
			embeddedDB.info.Embedded = true
			_, embeddedErr = lastGoodTable()
		}
	})
	return embeddedDB, embeddedErr
}

// openFS opens the records under dir of fsys: from the prebuilt blob when
// it was built from exactly these files, else by building one in memory.
func openFS(ctx context.Context, fsys fs.FS, dir, source string, blob []byte) (*DB, error) {
	digest, err := snapshotDigest(fsys, dir)
	if err != nil {
		return nil, err
	}
	if db, err := parseSnapshotBlob(blob, digest, source); err == nil {
		return db, nil
	}
	blob, err = buildSnapshotBlob(ctx, fsys, dir, source, digest)
	if err != nil {
		return nil, err
	}
	return parseSnapshotBlob(blob, digest, source)
}

// buildFS builds an in-memory DB from the *.json records under dir.
func buildFS(ctx context.Context, fsys fs.FS, dir, source string) (*DB, error) {
	return openFS(ctx, fsys, dir, source, nil)
}

// snapshotRecordFiles lists the record files of dir, sorted.
func snapshotRecordFiles(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) == ".json" && e.Name() != lastGoodFile {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	return names, nil
}

// snapshotDigest is a 64-bit digest (two CRC-32s, both hardware
// accelerated) of the record files' names and contents: cheap enough to
// check at every startup.
func snapshotDigest(fsys fs.FS, dir string) (uint64, error) {
	names, err := snapshotRecordFiles(fsys, dir)
	if err != nil {
		return 0, err
	}
	c1, c2 := crc32.New(castagnoli), crc32.NewIEEE()
	w := io.MultiWriter(c1, c2)
	buf := make([]byte, 32<<10)
	for _, n := range names {
		fmt.Fprintf(w, "%s\x00", n)
		f, err := fsys.Open(n)
		if err != nil {
			return 0, err
		}
		_, err = io.CopyBuffer(w, f, buf)
		f.Close()
		if err != nil {
			return 0, err
		}
		w.Write([]byte{0})
	}
	return uint64(c1.Sum32())<<32 | uint64(c2.Sum32()), nil
}

// buildSnapshotBlob builds the index of dir's records into one blob:
//
//	"VIGILSNP" u32(version) u32(0) u64(digest) i64(built, unix ns)
//	u64(len index) index records
func buildSnapshotBlob(ctx context.Context, fsys fs.FS, dir, source string, digest uint64) ([]byte, error) {
	names, err := snapshotRecordFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	b := newBuilder(&memSpool{}, 1)
	produce := func(ctx context.Context, items chan<- item) error {
		for _, n := range names {
			if err := send(ctx, items, item{path: n, read: func() ([]byte, error) { return fs.ReadFile(fsys, n) }}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := runPipeline(ctx, 0, produce, b); err != nil {
		return nil, fmt.Errorf("building %s: %w", source, err)
	}
	if len(b.problems) > 0 {
		// The snapshot is curated: a broken file is a build mistake.
		return nil, fmt.Errorf("%s: %d invalid records, first: %s", source, b.counts.Invalid, b.problems[0])
	}
	var newest int64
	for _, p := range b.byID {
		newest = max(newest, p.c.modified)
	}
	var recs, idx bytes.Buffer
	if _, err := b.finish(ctx, &recs, &idx); err != nil {
		return nil, err
	}
	blob := make([]byte, snapHeaderLen, snapHeaderLen+idx.Len()+recs.Len())
	copy(blob, snapMagic)
	binary.LittleEndian.PutUint32(blob[8:], snapVersion)
	binary.LittleEndian.PutUint64(blob[16:], digest)
	// The snapshot's date is that of its newest record.
	binary.LittleEndian.PutUint64(blob[24:], uint64(newest))
	binary.LittleEndian.PutUint64(blob[32:], uint64(idx.Len()))
	blob = append(blob, idx.Bytes()...)
	return append(blob, recs.Bytes()...), nil
}

// parseSnapshotBlob opens a blob built from files with the given digest.
func parseSnapshotBlob(blob []byte, digest uint64, source string) (*DB, error) {
	if len(blob) < snapHeaderLen || string(blob[:8]) != snapMagic {
		return nil, corrupt("not a snapshot blob")
	}
	if binary.LittleEndian.Uint32(blob[8:]) != snapVersion || binary.LittleEndian.Uint64(blob[16:]) != digest {
		return nil, errors.New("snapshot blob is stale")
	}
	idxLen := binary.LittleEndian.Uint64(blob[32:])
	if idxLen > uint64(len(blob)-snapHeaderLen) {
		return nil, corrupt("snapshot index length")
	}
	x, err := parseIndex(blob[snapHeaderLen:snapHeaderLen+idxLen], true)
	if err != nil {
		return nil, err
	}
	info := Info{Source: source, Records: x.recordCount}
	if built := int64(binary.LittleEndian.Uint64(blob[24:])); built > 0 {
		info.Built = time.Unix(0, built).UTC()
	}
	recs := blob[snapHeaderLen+idxLen:]
	return &DB{x: x, recs: bytes.NewReader(recs), recLen: int64(len(recs)), info: info, cache: make(map[uint32]*Record)}, nil
}

// lastGoodTable reads snapshot/lastgood.json when the curator provided one.
func lastGoodTable() (map[string]map[string]string, error) {
	lastGoodOnce.Do(func() {
		data, err := snapshot.ReadFile("snapshot/" + lastGoodFile)
		if err != nil {
			return // absent: no last-good hints
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			lastGoodErr = fmt.Errorf("embedded %s: %w", lastGoodFile, err)
			return
		}
		// Keys are compared in canonical form, as versions lists are.
		lastGoodMap = make(map[string]map[string]string, len(raw))
		for name, rawVersions := range raw {
			if strings.HasPrefix(name, "_") {
				continue // metadata such as "_generated"; no npm name starts with _
			}
			var vs map[string]string
			if err := json.Unmarshal(rawVersions, &vs); err != nil {
				lastGoodErr = fmt.Errorf("embedded %s: %s: %w", lastGoodFile, name, err)
				return
			}
			m := make(map[string]string, len(vs))
			for v, good := range vs {
				m[canonicalString(v)] = good
			}
			lastGoodMap[name] = m
		}
	})
	return lastGoodMap, lastGoodErr
}

// lastGood is the curated last good release before name@version, or "".
func lastGood(name, version string) string {
	t, _ := lastGoodTable()
	return t[name][canonicalString(version)]
}
