package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrMiss: the cache holds nothing under that key or integrity.
	ErrMiss = errors.New("cache miss")
	// ErrIntegrity: a tarball's bytes do not match the integrity it was
	// created for; they were discarded.
	ErrIntegrity = errors.New("integrity mismatch")
	// ErrClosed: the Cache was closed.
	ErrClosed = errors.New("cache closed")
)

const (
	// DefaultMaxBytes is the size cap when Options.MaxBytes is 0.
	DefaultMaxBytes int64 = 10 << 30
	// persistInterval bounds how often one entry's access time is written
	// to its file's mtime: recency survives a crash to within this much, at
	// the cost of one utimensat per entry per interval.
	persistInterval = time.Hour
)

// Options configure Open.
type Options struct {
	Dir      string // created if missing (0o700)
	MaxBytes int64  // total size cap for documents + tarballs; LRU eviction by last access; 0 = 10 GiB
	Logger   *slog.Logger
}

// Cache is the proxy's on-disk cache. All methods are safe for concurrent
// use; one directory belongs to one open Cache at a time.
type Cache struct {
	docDir, tarDir string
	maxBytes       int64
	log            *slog.Logger
	unlock         func()

	// Settable by tests before the Cache is shared.
	now          func() time.Time
	persistEvery time.Duration

	mu     sync.Mutex
	closed bool
	idx    *index

	hits, misses, evictions, integrityFailures, tooLarge atomic.Uint64
}

// Stats are the cache's counters, for /metrics.
type Stats struct {
	Entries   int   // documents + tarballs
	Documents int   // cached documents
	Tarballs  int   // cached tarballs
	Bytes     int64 // document bodies + tarballs (sidecars are not counted)
	MaxBytes  int64
	// Since Open:
	Hits              uint64 // Document, DocumentFile and OpenTarball calls that found an entry
	Misses            uint64 // … that returned ErrMiss
	Evictions         uint64 // entries removed to stay under MaxBytes
	IntegrityFailures uint64 // tarball commits refused with ErrIntegrity, and entries Verify removed
	TooLarge          uint64 // entries not stored because they alone exceed MaxBytes
}

// Open opens (creating if needed) the cache in opt.Dir, removes what a
// crash left behind and rebuilds the index from the files.
func Open(ctx context.Context, opt Options) (*Cache, error) {
	if opt.Dir == "" {
		return nil, errors.New("cache: no directory given")
	}
	if opt.MaxBytes < 0 {
		return nil, fmt.Errorf("cache: negative size cap %d", opt.MaxBytes)
	}
	c := &Cache{
		docDir:       filepath.Join(opt.Dir, "docs"),
		tarDir:       filepath.Join(opt.Dir, "tarballs"),
		maxBytes:     cmp.Or(opt.MaxBytes, DefaultMaxBytes),
		log:          opt.Logger,
		now:          time.Now,
		persistEvery: persistInterval,
		idx:          newIndex(),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{opt.Dir, c.docDir, c.tarDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	unlock, err := lockDir(filepath.Join(opt.Dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	c.unlock = unlock
	start := time.Now()
	entries, err := c.load(ctx)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("cache %s: %w", opt.Dir, err)
	}
	slices.SortFunc(entries, func(a, b *entry) int { return a.access.Compare(b.access) })
	c.mu.Lock()
	for _, e := range entries { // oldest first: the newest ends at the front
		c.idx.put(e) // load yields one entry per id
	}
	c.evictLocked()
	st := c.statsLocked()
	c.mu.Unlock()
	c.log.Info("cache opened", "dir", opt.Dir, "documents", st.Documents, "tarballs", st.Tarballs,
		"bytes", st.Bytes, "max_bytes", c.maxBytes, "evicted", c.evictions.Load(), "took", time.Since(start))
	return c, nil
}

// Close writes the access times not yet persisted and releases the
// directory. Readers already holding files may go on reading them; other
// calls, and Commits of writers still open, return ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var stamps []stamp
	for _, e := range c.idx.entries {
		if e.access.After(e.persisted) {
			e.persisted = e.access
			stamps = append(stamps, stamp{e.path(), e.access})
		}
	}
	c.mu.Unlock()
	for _, s := range stamps {
		c.apply(s)
	}
	c.unlock()
	return nil
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statsLocked()
}

func (c *Cache) statsLocked() Stats {
	return Stats{
		Entries:           len(c.idx.entries),
		Documents:         c.idx.docs,
		Tarballs:          len(c.idx.entries) - c.idx.docs,
		Bytes:             c.idx.bytes,
		MaxBytes:          c.maxBytes,
		Hits:              c.hits.Load(),
		Misses:            c.misses.Load(),
		Evictions:         c.evictions.Load(),
		IntegrityFailures: c.integrityFailures.Load(),
		TooLarge:          c.tooLarge.Load(),
	}
}

// stamp is an access time to write to a data file's mtime.
type stamp struct {
	path string
	at   time.Time
}

// useLocked marks e as used now. When the access time on disk has fallen
// persistEvery behind, it returns the stamp to apply once the lock is
// released.
func (c *Cache) useLocked(e *entry) stamp {
	c.idx.use(e, c.now())
	if e.access.Sub(e.persisted) >= c.persistEvery && e.access.After(e.persisted) {
		e.persisted = e.access
		return stamp{e.path(), e.access}
	}
	return stamp{}
}

func (c *Cache) apply(s stamp) {
	if s.path == "" {
		return
	}
	// The file may have been replaced or evicted since: nothing to keep.
	if err := os.Chtimes(s.path, s.at, s.at); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("cache: recording access time", "file", s.path, "err", err)
	}
}

// insertLocked publishes e (its files are in place) as the most recently
// used entry, removes the data file of the entry it replaces, and evicts
// what no longer fits.
func (c *Cache) insertLocked(e *entry) {
	if old := c.idx.put(e); old != nil && old.path() != e.path() {
		if err := removeFile(old.path()); err != nil {
			c.log.Warn("cache: removing a replaced file", "file", old.path(), "err", err)
		}
	}
	c.evictLocked()
}

// evictLocked removes least recently used entries until the total fits the
// cap. Only committed entries are in the index, so a file being written is
// never a candidate; a file being read stays readable through its
// reader's descriptor.
func (c *Cache) evictLocked() {
	for c.idx.bytes > c.maxBytes {
		e := c.idx.oldest()
		if e == nil {
			return
		}
		c.dropLocked(e, "evicted")
		c.evictions.Add(1)
	}
}

// dropLocked removes e from the index and its files from disk, if e is
// still the indexed entry for its id.
func (c *Cache) dropLocked(e *entry, why string) {
	if !c.idx.remove(e) {
		return
	}
	c.log.Debug("cache: removing entry", "id", e.id, "bytes", e.size, "why", why)
	for _, p := range e.files() {
		if err := removeFile(p); err != nil {
			c.log.Warn("cache: removing entry", "file", p, "err", err)
		}
	}
}

func (c *Cache) drop(e *entry, why string) {
	c.mu.Lock()
	c.dropLocked(e, why)
	c.mu.Unlock()
}
