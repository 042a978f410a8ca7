package advisory

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// ErrNoDB is wrapped by Open's error when no database was imported yet.
var ErrNoDB = errors.New("no advisory database")

// Match is one record that affects one package version.
type Match struct {
	Package   npm.PackageVersion
	Record    *Record // shared; do not modify
	Malicious bool
	Severity  Severity
	// Fixed lists the versions the record's ranges for this package name
	// as fixed, ascending; empty when no fix is known.
	Fixed []string
	// LastAffected lists the ranges' last_affected bounds, ascending.
	LastAffected []string
	// LastGood is the last good release before this one when the curated
	// snapshot knows it (compromised releases), e.g. debug 4.4.2 → 4.4.1.
	LastGood string
}

// Info describes the advisory data behind a DB or Multi.
type Info struct {
	Source   string // the database folder, or "embedded snapshot"
	Records  int
	Built    time.Time
	Embedded bool
	Layers   []Info `json:",omitempty"` // for a Multi: each layer
}

// Matcher is what the scan layer needs: *DB and *Multi implement it.
type Matcher interface {
	Match(name, version string) ([]Match, error)
	Info() Info
}

// DB is an opened advisory index. It is safe for concurrent use.
type DB struct {
	x *index
	// recs reads records.bin. It is not mapped: matched records lie far
	// apart, and every fault on a mapping pulls in (and charges to the
	// process) tens of kilobytes around it; pread copies just the record.
	recs   io.ReaderAt
	recLen int64
	info   Info

	// mu guards the index mapping and the records file: lookups hold it
	// for reading, Close for writing, so nothing reads unmapped memory.
	mu      sync.RWMutex
	closed  bool
	closers []func() error

	cacheMu sync.Mutex
	cache   map[uint32]*Record

	wdOnce    sync.Once
	withdrawn map[string]int64
	wdErr     error
}

// ErrClosed is returned by a DB used after Close.
var ErrClosed = errors.New("advisory database is closed")

// File names inside a database folder.
const (
	currentFile  = "CURRENT"
	indexFile    = "index.bin"
	recordsFile  = "records.bin"
	manifestFile = "manifest.json"
	lockFile     = "LOCK"
	genPrefix    = "gen-"
	tmpPrefix    = "tmp-"
)

// DefaultDir is where the database lives unless configured otherwise:
// the user cache folder (e.g. ~/.cache/vigil/db).
func DefaultDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the cache folder for the advisory database: %w", err)
	}
	return filepath.Join(dir, "vigil", "db"), nil
}

// Open opens the database imported into dir. It wraps ErrNoDB when there
// is none and ErrCorrupt when it is damaged.
func Open(dir string) (*DB, error) {
	// An import may replace and delete the generation between reading
	// CURRENT and opening its files; reading CURRENT again resolves that.
	var err error
	for range 3 {
		var db *DB
		db, err = openOnce(dir)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNoDB) {
			return db, err
		}
	}
	return nil, err
}

func currentGen(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w in %s: run `vigil db import` first", ErrNoDB, dir)
	}
	if err != nil {
		return "", fmt.Errorf("reading advisory database pointer: %w", err)
	}
	gen := strings.TrimSpace(string(b))
	if !strings.HasPrefix(gen, genPrefix) || strings.ContainsAny(gen, `/\`) || strings.Contains(gen, "..") {
		return "", corrupt("%s names %q", filepath.Join(dir, currentFile), gen)
	}
	return gen, nil
}

func openOnce(dir string) (*DB, error) {
	gen, err := currentGen(dir)
	if err != nil {
		return nil, err
	}
	genDir := filepath.Join(dir, gen)
	m, err := readManifest(genDir)
	if err != nil {
		return nil, err
	}
	db := &DB{cache: make(map[uint32]*Record)}
	data, unmap, err := mapFile(filepath.Join(genDir, indexFile))
	if err != nil {
		return nil, fmt.Errorf("opening advisory index: %w", err)
	}
	db.closers = append(db.closers, unmap)
	if db.x, err = parseIndex(data, true); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", filepath.Join(genDir, indexFile), err)
	}
	f, err := os.Open(filepath.Join(genDir, recordsFile))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening advisory records: %w", err)
	}
	db.closers = append(db.closers, f.Close)
	st, err := f.Stat()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening advisory records: %w", err)
	}
	db.recs, db.recLen = f, st.Size()
	db.info = Info{Source: dir, Records: db.x.recordCount, Built: m.Built}
	return db, nil
}

// Close releases the files. Records already returned stay valid; later
// calls fail with ErrClosed.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed || db.closers == nil {
		return nil // the embedded snapshot lives as long as the process
	}
	db.closed = true
	var first error
	for _, f := range db.closers {
		if err := f(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Info describes the database.
func (db *DB) Info() Info { return db.info }

// hit is a record matched in the index, before the record is loaded.
type hit struct {
	db   *DB
	rec  uint32
	meta recMeta
	id   string
	// bounds of the record's entries for the name
	fixed, last []npm.Version
}

// lookup finds the records affecting name@version without loading them.
func (db *DB) lookup(name, version string) ([]hit, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	d, found, err := db.x.find(name)
	if err != nil || !found {
		return nil, err
	}
	q := prepare(newQuery(version))
	var hits []hit
	err = forEntries(d, db.x.recordCount, func(rec uint32, e []byte) error {
		ok, err := matchEncoded(e, &q)
		if err != nil {
			return err
		}
		if ok && !slices.ContainsFunc(hits, func(h hit) bool { return h.rec == rec }) {
			hits = append(hits, hit{db: db, rec: rec})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", name, err)
	}
	if len(hits) == 0 {
		return nil, nil
	}
	for i := range hits {
		h := &hits[i]
		if h.meta, err = db.x.record(h.rec); err != nil {
			return nil, err
		}
		if h.id, err = db.x.recordID(h.meta); err != nil {
			return nil, err
		}
	}
	// Bounds come from every entry of a hit record for this name, as a
	// record may split one package over several affected entries.
	err = forEntries(d, db.x.recordCount, func(rec uint32, e []byte) error {
		for i := range hits {
			if hits[i].rec == rec {
				var err error
				hits[i].fixed, hits[i].last, err = encodedBounds(e, hits[i].fixed, hits[i].last)
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", name, err)
	}
	return hits, nil
}

// Match returns the records affecting name@version, ordered by id.
func (db *DB) Match(name, version string) ([]Match, error) {
	hits, err := db.lookup(name, version)
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	return loadMatches(name, version, hits)
}

func loadMatches(name, version string, hits []hit) ([]Match, error) {
	slices.SortFunc(hits, func(a, b hit) int { return cmpStr(a.id, b.id) })
	out := make([]Match, 0, len(hits))
	lg := lastGood(name, version)
	for _, h := range hits {
		r, err := h.db.load(h.rec, h.meta)
		if err != nil {
			return nil, err
		}
		out = append(out, Match{
			Package:      npm.PackageVersion{Name: name, Version: version},
			Record:       r,
			Malicious:    h.meta.flags&flagMalicious != 0,
			Severity:     h.meta.sev,
			Fixed:        sortedVersions(h.fixed),
			LastAffected: sortedVersions(h.last),
			LastGood:     lg,
		})
	}
	return out, nil
}

// load decodes one record, once per DB.
func (db *DB) load(rec uint32, m recMeta) (*Record, error) {
	db.cacheMu.Lock()
	r, ok := db.cache[rec]
	db.cacheMu.Unlock()
	if ok {
		return r, nil
	}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return nil, ErrClosed
	}
	if m.off > uint64(db.recLen) || uint64(m.size) > uint64(db.recLen)-m.off { // no overflow
		db.mu.RUnlock()
		return nil, corrupt("record %d lies outside records.bin", rec)
	}
	buf := make([]byte, m.size)
	_, err := db.recs.ReadAt(buf, int64(m.off))
	db.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("reading advisory record: %w", err)
	}
	if crc32.Checksum(buf, castagnoli) != m.crc {
		return nil, corrupt("record %d checksum mismatch", rec)
	}
	r, err = decodeRecord(buf)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", rec, err)
	}
	db.cacheMu.Lock()
	if prev, ok := db.cache[rec]; ok {
		r = prev
	} else {
		db.cache[rec] = r
	}
	db.cacheMu.Unlock()
	return r, nil
}

// withdrawnIDs returns the ids this database knows as withdrawn, with
// their modified times.
func (db *DB) withdrawnIDs() (map[string]int64, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	db.wdOnce.Do(func() { db.withdrawn, db.wdErr = db.x.withdrawnIDs() })
	return db.withdrawn, db.wdErr
}
