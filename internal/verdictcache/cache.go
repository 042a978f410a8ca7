// Package verdictcache keeps the verdicts of 'vigil analyze' on disk, so
// that analysing the same project again costs only what changed.
//
// An entry is keyed by what was analysed — a tarball's integrity, or a
// digest of an installed folder's files — together with an engine
// fingerprint (Fingerprint) that changes whenever the rules or the scoring
// change, so a new rule never hides behind an old verdict. Entries are
// JSON files written atomically (a temporary file renamed into place);
// readers never see a half-written entry, and an entry that does not decode
// or does not match its key and engine is treated as missing and rewritten.
// Trim keeps the folder under a size bound by removing the least recently
// used entries.
package verdictcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
)

// formatVersion versions the entry file layout; entries of another format
// are ignored (and eventually trimmed).
const formatVersion = 1

// Defaults for Options fields left zero.
const (
	// DefaultMaxBytes bounds the folder. A verdict is a few kilobytes (the
	// largest, for packages with thousands of findings, a few hundred), so
	// this holds the verdicts of tens of thousands of packages.
	DefaultMaxBytes int64 = 256 << 20
	// maxEntrySize bounds what Get reads from one file.
	maxEntrySize = 16 << 20
	// staleTemp is how old a leftover temporary file (from a process killed
	// while writing) must be before Trim removes it.
	staleTemp = time.Hour
)

// Entry is one cached analysis: the report and what reading the package
// noticed on the way.
type Entry struct {
	Report *analyze.Report `json:"report"`
	// Warnings are the archive reader's warnings, already sanitised.
	Warnings []string `json:"warnings,omitempty"`
	// NotLoaded lists files too large to load, already sanitised.
	NotLoaded []string `json:"not_loaded,omitempty"`
}

// envelope is the file format: the entry plus what it is the verdict of,
// checked on every read.
type envelope struct {
	Format  int       `json:"format"`
	Engine  string    `json:"engine"`
	Key     string    `json:"key"`
	Created time.Time `json:"created"`
	Entry   *Entry    `json:"entry"`
}

// Options configure a Cache. The zero value is usable.
type Options struct {
	// MaxBytes bounds the folder's size after Trim; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Logger receives debug messages about corrupt entries and failed
	// writes; nil discards them.
	Logger *slog.Logger
}

// Cache is a verdict cache in one folder. It is safe for concurrent use,
// also by several processes sharing the folder.
type Cache struct {
	dir      string
	engine   string
	maxBytes int64
	logger   *slog.Logger

	hits, misses, corrupt, writes atomic.Int64
}

// Stats count what a Cache did since Open.
type Stats struct {
	Hits, Misses int64
	// Corrupt counts entries that existed but could not be used (bad JSON,
	// another key or engine); they count as misses too.
	Corrupt int64
	Writes  int64
}

// Open returns the cache in dir for verdicts of the given engine
// fingerprint, creating the folder (private to the user) when needed.
func Open(dir, engine string, opt Options) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("verdict cache: no folder")
	}
	if engine == "" {
		return nil, errors.New("verdict cache: no engine fingerprint")
	}
	if err := os.MkdirAll(filepath.Join(dir, entriesDir()), 0o700); err != nil {
		return nil, fmt.Errorf("verdict cache: %w", err)
	}
	c := &Cache{dir: dir, engine: engine, maxBytes: opt.MaxBytes, logger: opt.Logger}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Engine is the fingerprint the cache stores and accepts verdicts for.
func (c *Cache) Engine() string { return c.engine }

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Corrupt: c.corrupt.Load(), Writes: c.writes.Load()}
}

func entriesDir() string { return fmt.Sprintf("v%d", formatVersion) }

// path is where the entry for key lives: the key is hashed with the engine,
// so no key can name a path of its own and verdicts of different engines
// never share a file.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(c.engine + "\x00" + key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, entriesDir(), h[:2], h+".json")
}

// Get returns the entry cached for key. A missing, unreadable or corrupt
// entry is a miss; the caller analyses and Puts, which rewrites it.
func (c *Cache) Get(ctx context.Context, key string) (*Entry, bool) {
	if key == "" || ctx.Err() != nil {
		c.misses.Add(1)
		return nil, false
	}
	p := c.path(key)
	data, err := readCapped(p, maxEntrySize)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.corrupt.Add(1)
			c.logger.Debug("verdict cache: unreadable entry", "path", p, "err", err)
		}
		c.misses.Add(1)
		return nil, false
	}
	e, err := decode(data, c.engine, key)
	if err != nil {
		c.corrupt.Add(1)
		c.misses.Add(1)
		c.logger.Debug("verdict cache: ignoring corrupt entry", "path", p, "err", err)
		return nil, false
	}
	// Touch the entry so Trim, which removes the oldest first, keeps what
	// is used. Best effort: a read-only cache still serves hits.
	now := time.Now()
	_ = os.Chtimes(p, now, now)
	c.hits.Add(1)
	return e, true
}

// decode parses an entry file and checks it is the verdict of key by
// engine.
func decode(data []byte, engine, key string) (*Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var env envelope
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the entry")
	}
	switch {
	case env.Format != formatVersion:
		return nil, fmt.Errorf("format %d, want %d", env.Format, formatVersion)
	case env.Engine != engine:
		return nil, errors.New("written by another engine")
	case env.Key != key:
		return nil, errors.New("written for another key")
	case env.Entry == nil || env.Entry.Report == nil:
		return nil, errors.New("no report")
	case env.Entry.Report.Findings == nil:
		return nil, errors.New("no findings list")
	}
	switch env.Entry.Report.Verdict {
	case analyze.Clean, analyze.Suspicious, analyze.Malicious:
	default:
		return nil, fmt.Errorf("unknown verdict %q", env.Entry.Report.Verdict)
	}
	return env.Entry, nil
}

// Put stores e as the verdict for key, atomically: a concurrent Get sees
// the old entry or the new one, never part of one.
func (c *Cache) Put(ctx context.Context, key string, e *Entry) error {
	if key == "" {
		return errors.New("verdict cache: empty key")
	}
	if e == nil || e.Report == nil {
		return errors.New("verdict cache: no report to store")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(envelope{Format: formatVersion, Engine: c.engine, Key: key, Created: time.Now().UTC(), Entry: e})
	if err != nil {
		return fmt.Errorf("verdict cache: encoding: %w", err)
	}
	if err := writeAtomic(c.path(key), data); err != nil {
		return err
	}
	c.writes.Add(1)
	return nil
}

// writeAtomic writes data to p through a temporary file renamed into
// place, so a concurrent reader sees the old file or the new one.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("verdict cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("verdict cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("verdict cache: writing %s: %w", p, werr)
	}
	return nil
}

// Trim removes the least recently used entries (verdicts and stat index
// entries alike) until the folder holds at
// most MaxBytes (it trims to 90 % so that every run does not trim again),
// and temporary files left by killed processes. It returns how many files
// it removed.
func (c *Cache) Trim(ctx context.Context) (int, error) {
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	removed := 0
	var err error
	for _, root := range []string{filepath.Join(c.dir, entriesDir()), filepath.Join(c.dir, statDir())} {
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed by a concurrent Trim, or no stat index yet
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil // gone meanwhile
			}
			if strings.HasPrefix(d.Name(), ".tmp-") {
				if time.Since(info.ModTime()) > staleTemp && os.Remove(p) == nil {
					removed++
				}
				return nil
			}
			files = append(files, file{p, info.Size(), info.ModTime()})
			total += info.Size()
			return nil
		})
		if err != nil {
			break
		}
	}
	if err != nil {
		return removed, fmt.Errorf("verdict cache: trimming: %w", err)
	}
	if total <= c.maxBytes {
		return removed, nil
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	target := c.maxBytes / 10 * 9
	for _, f := range files {
		if total <= target {
			break
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("verdict cache: trimming: %w", err)
		}
		total -= f.size
		removed++
	}
	c.logger.Debug("verdict cache trimmed", "removed", removed, "bytes", total)
	return removed, nil
}

func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("entry larger than %d bytes", max)
	}
	return data, nil
}
