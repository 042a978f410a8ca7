package cache

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// OpenTarball opens the tarball cached under integrity, or returns ErrMiss
// (ErrInvalidIntegrity for an integrity it will not use as an address).
// The bytes were verified against integrity when they were written and are
// not hashed again here. The reader is an *os.File positioned at 0, so
// io.Copy and http.ServeContent can use sendfile; the caller closes it.
func (c *Cache) OpenTarball(integrity string) (io.ReadSeekCloser, int64, error) {
	k, err := parseIntegrity(integrity)
	if err != nil {
		return nil, 0, err
	}
	id := k.id()
	for attempt := 1; ; attempt++ {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, 0, ErrClosed
		}
		e := c.idx.get(id)
		if e == nil {
			c.mu.Unlock()
			c.misses.Add(1)
			return nil, 0, ErrMiss
		}
		path, size := e.path(), e.size
		st := c.useLocked(e)
		c.mu.Unlock()
		c.apply(st)

		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) && attempt < openAttempts {
			continue // evicted since the lookup: look again
		}
		if errors.Is(err, fs.ErrNotExist) {
			c.drop(e, "its file vanished")
			c.misses.Add(1)
			return nil, 0, ErrMiss
		}
		if err != nil {
			return nil, 0, fmt.Errorf("opening cached tarball %s: %w", k, err)
		}
		if err := checkSize(f, size); err != nil {
			f.Close()
			c.log.Warn("cache: dropping a damaged tarball", "integrity", k.String(), "err", err)
			c.drop(e, "damaged")
			c.misses.Add(1)
			return nil, 0, ErrMiss
		}
		c.hits.Add(1)
		return f, size, nil
	}
}

// TarballWriter streams one download into the cache. It is not safe for
// concurrent use. Write never fails on a storage problem: the bytes are
// still hashed, so that a caller teeing a download to a client and into the
// cache is not cut off by a full disk; Commit reports it.
type TarballWriter struct {
	c        *Cache
	key      tarballKey
	h        hash.Hash
	f        *os.File // nil once the bytes are no longer being stored
	n        int64
	storeErr error // why storing stopped, if it failed
	tooLarge bool  // storing stopped because the tarball exceeds the cap
	done     bool  // Commit or Abort was called
}

var errWriterDone = errors.New("tarball writer already committed or aborted")

// CreateTarball starts writing a tarball to be cached under integrity.
// Write its bytes as they arrive, then Commit or Abort.
func (c *Cache) CreateTarball(integrity string) (*TarballWriter, error) {
	k, err := parseIntegrity(integrity)
	if err != nil {
		return nil, err
	}
	if c.isClosed() {
		return nil, ErrClosed
	}
	f, err := createTemp(c.tarDir)
	if err != nil {
		return nil, fmt.Errorf("caching tarball %s: %w", k, err)
	}
	return &TarballWriter{c: c, key: k, h: newHash(k.alg), f: f}, nil
}

// Write hashes p and stores it. Its error is non-nil only after Commit or
// Abort.
func (w *TarballWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errWriterDone
	}
	w.h.Write(p)
	w.n += int64(len(p))
	if w.f == nil {
		return len(p), nil
	}
	if w.n > w.c.maxBytes {
		w.tooLarge = true
		w.discard()
	} else if _, err := w.f.Write(p); err != nil {
		w.storeErr = err
		w.discard()
	}
	return len(p), nil
}

// Commit checks the bytes written against the integrity and, if they
// match, publishes them. On a mismatch nothing is kept and the error
// wraps ErrIntegrity. A tarball larger than the cache's cap is verified
// but not kept, and Commit returns nil. Another Commit of the same
// integrity, earlier or concurrent, is harmless: the bytes are the same.
func (w *TarballWriter) Commit() error {
	if w.done {
		return errWriterDone
	}
	w.done = true
	c := w.c
	if sum := w.h.Sum(nil); subtle.ConstantTimeCompare(sum, w.key.digest) != 1 {
		w.discard()
		c.integrityFailures.Add(1)
		return fmt.Errorf("tarball %s: %w: the %d bytes received hash to %s",
			w.key, ErrIntegrity, w.n, tarballKey{alg: w.key.alg, digest: sum})
	}
	if w.storeErr != nil {
		return fmt.Errorf("caching tarball %s: %w", w.key, w.storeErr)
	}
	if w.tooLarge {
		c.tooLarge.Add(1)
		c.log.Debug("cache: tarball larger than the cache", "integrity", w.key.String(), "bytes", w.n, "max_bytes", c.maxBytes)
		return nil
	}
	f := w.f
	w.f = nil
	if err := finishTemp(f); err != nil {
		return fmt.Errorf("caching tarball %s: %w", w.key, err)
	}
	name := tarballFileName(w.key, w.n)
	path := filepath.Join(c.tarDir, name)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		os.Remove(f.Name())
		return ErrClosed
	}
	// Under the lock, so that an eviction of this integrity (same name)
	// cannot remove the file after it is published.
	if err := os.Rename(f.Name(), path); err != nil {
		c.mu.Unlock()
		os.Remove(f.Name())
		return fmt.Errorf("caching tarball %s: %w", w.key, err)
	}
	now := c.now()
	c.insertLocked(&entry{id: w.key.id(), kind: kindTarball, dir: c.tarDir, file: name, size: w.n, access: now, persisted: now})
	c.mu.Unlock()
	if err := syncDir(c.tarDir); err != nil {
		c.log.Warn("cache: syncing after a tarball write", "integrity", w.key.String(), "err", err)
	}
	return nil
}

// Abort discards what was written. After Commit it does nothing, so it can
// be deferred.
func (w *TarballWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.discard()
}

// discard stops storing and removes the temporary file.
func (w *TarballWriter) discard() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	f.Close()
	if err := removeFile(f.Name()); err != nil {
		return fmt.Errorf("discarding tarball %s: %w", w.key, err)
	}
	return nil
}

func newHash(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	}
	panic("cache: no hash for algorithm " + alg) // parseIntegrity admits only the four above
}

// Verify re-hashes every cached tarball and removes those whose bytes no
// longer match their integrity (disk corruption, tampering). Reads do not
// re-hash; this is for an operator's periodic check. It returns how many
// tarballs it checked and removed.
func (c *Cache) Verify(ctx context.Context) (checked, removed int, err error) {
	c.mu.Lock()
	var todo []*entry
	for _, e := range c.idx.entries {
		if e.kind == kindTarball {
			todo = append(todo, e)
		}
	}
	c.mu.Unlock()
	for _, e := range todo {
		if err := ctx.Err(); err != nil {
			return checked, removed, err
		}
		k, _, err := parseTarballFileName(e.file)
		if err != nil {
			return checked, removed, fmt.Errorf("verifying %s: %w", e.path(), err)
		}
		ok, err := fileMatches(e.path(), k)
		if errors.Is(err, fs.ErrNotExist) {
			continue // evicted or replaced since the snapshot
		}
		if err != nil {
			return checked, removed, fmt.Errorf("verifying %s: %w", e.path(), err)
		}
		checked++
		if !ok {
			c.log.Warn("cache: removing a tarball whose bytes no longer match", "file", e.path())
			c.drop(e, "integrity mismatch on verify")
			c.integrityFailures.Add(1)
			removed++
		}
	}
	return checked, removed, nil
}

func fileMatches(path string, k tarballKey) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := newHash(k.alg)
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(h.Sum(nil), k.digest) == 1, nil
}
