package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Document is a cached upstream response body with its revalidation data.
type Document struct {
	Body         []byte // exactly as received (identity encoding)
	ContentType  string
	ETag         string
	LastModified string
	FetchedAt    time.Time // when it was fetched or last revalidated (304)
}

// openAttempts bounds how often a lookup is retried when the file it found
// was replaced or evicted before it could be opened.
const openAttempts = 4

// Document returns the document cached under key, or ErrMiss. The body is
// read with one read into a buffer of its exact size.
func (c *Cache) Document(key string) (*Document, error) {
	f, d, size, err := c.openDocument(key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d.Body = make([]byte, size)
	if _, err := io.ReadFull(f, d.Body); err != nil {
		return nil, fmt.Errorf("reading cached document %q: %w", key, err)
	}
	return d, nil
}

// DocumentFile opens the body of the document cached under key for
// streaming, and returns its metadata (Body nil), or ErrMiss. The file
// holds exactly the body, from offset 0; f.Stat gives its size. The caller
// closes it; it stays readable even if the entry is replaced or evicted
// meanwhile.
func (c *Cache) DocumentFile(key string) (*os.File, *Document, error) {
	f, d, _, err := c.openDocument(key)
	return f, d, err
}

func (c *Cache) openDocument(key string) (*os.File, *Document, int64, error) {
	if err := validateKey(key); err != nil {
		return nil, nil, 0, err
	}
	id := docID(keyHash(key))
	for attempt := 1; ; attempt++ {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, nil, 0, ErrClosed
		}
		e := c.idx.get(id)
		if e == nil || e.meta.Key != key { // the second only on a SHA-256 collision
			c.mu.Unlock()
			c.misses.Add(1)
			return nil, nil, 0, ErrMiss
		}
		m, path := e.meta, e.path()
		st := c.useLocked(e)
		c.mu.Unlock()
		c.apply(st)

		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) && attempt < openAttempts {
			continue // replaced or evicted since the lookup: look again
		}
		if errors.Is(err, fs.ErrNotExist) {
			c.drop(e, "its body vanished")
			c.misses.Add(1)
			return nil, nil, 0, ErrMiss
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("opening cached document %q: %w", key, err)
		}
		if err := checkSize(f, m.Size); err != nil {
			f.Close()
			c.log.Warn("cache: dropping a damaged document", "key", key, "file", path, "err", err)
			c.drop(e, "damaged")
			c.misses.Add(1)
			return nil, nil, 0, ErrMiss
		}
		c.hits.Add(1)
		return f, &Document{ContentType: m.ContentType, ETag: m.ETag, LastModified: m.LastModified, FetchedAt: m.FetchedAt}, m.Size, nil
	}
}

// checkSize confirms that f still has the length recorded when it was
// written.
func checkSize(f *os.File, want int64) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() != want {
		return fmt.Errorf("%s is %d bytes, want %d", f.Name(), info.Size(), want)
	}
	return nil
}

// PutDocument stores d under key, atomically replacing what was there:
// readers see the old document or the new one, never a mix. A zero
// FetchedAt is taken as now. A body larger than the size cap is not cached,
// and the older copy under key is dropped so it cannot outlive the newer
// document.
func (c *Cache) PutDocument(key string, d *Document) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("caching document %q: nil document", key)
	}
	if err := validateHeaders(d); err != nil {
		return fmt.Errorf("caching document %q: %w", key, err)
	}
	hash := keyHash(key)
	size := int64(len(d.Body))
	if size > c.maxBytes {
		c.tooLarge.Add(1)
		c.log.Debug("cache: document larger than the cache", "key", key, "bytes", size, "max_bytes", c.maxBytes)
		return c.DeleteDocument(key)
	}
	if c.isClosed() {
		return ErrClosed
	}
	m := &docMeta{
		Version: sidecarVersion, Key: key, Gen: newGen(), Size: size,
		ContentType: d.ContentType, ETag: d.ETag, LastModified: d.LastModified, FetchedAt: d.FetchedAt,
	}
	if m.FetchedAt.IsZero() {
		m.FetchedAt = c.now()
	}
	sidecar, err := encodeSidecar(m)
	if err != nil {
		return err
	}

	// The body goes under its own new name first; the sidecar naming it is
	// the commit point. A crash before that leaves an orphan body for Open.
	bodyTemp, err := writeTemp(c.docDir, d.Body)
	if err != nil {
		return fmt.Errorf("caching document %q: %w", key, err)
	}
	bodyPath := filepath.Join(c.docDir, bodyFileName(hash, m.Gen))
	if err := os.Rename(bodyTemp, bodyPath); err != nil {
		os.Remove(bodyTemp)
		return fmt.Errorf("caching document %q: %w", key, err)
	}
	metaTemp, err := writeTemp(c.docDir, sidecar)
	if err == nil {
		err = syncDir(c.docDir) // the body's name is durable before the sidecar refers to it
	}
	if err != nil {
		os.Remove(bodyPath)
		if metaTemp != "" {
			os.Remove(metaTemp)
		}
		return fmt.Errorf("caching document %q: %w", key, err)
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		os.Remove(bodyPath)
		os.Remove(metaTemp)
		return ErrClosed
	}
	if err := os.Rename(metaTemp, filepath.Join(c.docDir, metaFileName(hash))); err != nil {
		c.mu.Unlock()
		os.Remove(bodyPath)
		os.Remove(metaTemp)
		return fmt.Errorf("caching document %q: %w", key, err)
	}
	now := c.now()
	c.insertLocked(&entry{
		id: docID(hash), kind: kindDocument, dir: c.docDir, file: bodyFileName(hash, m.Gen), size: size,
		access: now, persisted: now, meta: m,
	})
	c.mu.Unlock()
	if err := syncDir(c.docDir); err != nil {
		// Committed in memory and on disk; only its durability across a
		// power failure is in doubt, and Open copes with either outcome.
		c.log.Warn("cache: syncing after a document write", "key", key, "err", err)
	}
	return nil
}

// Touch records a 304 revalidation of the document under key: only
// FetchedAt changes. ErrMiss if nothing is cached under key. If the
// document is replaced while Touch runs, the replacement wins.
func (c *Cache) Touch(key string, fetchedAt time.Time) error {
	if err := validateKey(key); err != nil {
		return err
	}
	hash := keyHash(key)
	id := docID(hash)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	e := c.idx.get(id)
	if e == nil {
		c.mu.Unlock()
		return ErrMiss
	}
	m := *e.meta
	c.mu.Unlock()

	m.FetchedAt = fetchedAt
	sidecar, err := encodeSidecar(&m)
	if err != nil {
		return err
	}
	temp, err := writeTemp(c.docDir, sidecar)
	if err != nil {
		return fmt.Errorf("revalidating document %q: %w", key, err)
	}

	c.mu.Lock()
	cur := c.idx.get(id)
	switch {
	case c.closed:
		err = ErrClosed
	case cur == nil:
		err = ErrMiss
	case cur.meta.Gen != m.Gen: // replaced meanwhile by a newer fetch
	default:
		if rerr := os.Rename(temp, filepath.Join(c.docDir, metaFileName(hash))); rerr != nil {
			c.mu.Unlock()
			os.Remove(temp)
			return fmt.Errorf("revalidating document %q: %w", key, rerr)
		}
		cur.meta = &m
		st := c.useLocked(cur)
		c.mu.Unlock()
		c.apply(st)
		return nil
	}
	c.mu.Unlock()
	os.Remove(temp)
	return err
}

// DeleteDocument removes the document under key, if any; for instance when
// the upstream no longer has the package.
func (c *Cache) DeleteDocument(key string) error {
	if err := validateKey(key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if e := c.idx.get(docID(keyHash(key))); e != nil {
		c.dropLocked(e, "deleted")
	}
	return nil
}

func (c *Cache) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
