package cache

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// load scans the cache's directories, removes what a crash or corruption
// left (temporary files, truncated or orphaned files, sidecars that do not
// parse) and returns one entry per document and tarball that remains.
// Files it does not recognise are logged and left alone.
func (c *Cache) load(ctx context.Context) ([]*entry, error) {
	docs, err := c.loadDocuments(ctx)
	if err != nil {
		return nil, err
	}
	tarballs, err := c.loadTarballs(ctx)
	if err != nil {
		return nil, err
	}
	return append(docs, tarballs...), nil
}

// checkEvery is how many directory entries load handles between looks at
// its context.
const checkEvery = 512

func (c *Cache) loadTarballs(ctx context.Context) ([]*entry, error) {
	des, err := os.ReadDir(c.tarDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.tarDir, err)
	}
	var entries []*entry
	seen := map[string]bool{}
	for i, de := range des {
		if i%checkEvery == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		name := de.Name()
		path := filepath.Join(c.tarDir, name)
		if isTemp(name) {
			c.removeDebris(path, "unfinished write")
			continue
		}
		k, size, err := parseTarballFileName(name)
		if err != nil || !de.Type().IsRegular() {
			c.log.Warn("cache: ignoring a file it did not write", "file", path, "err", err, "type", de.Type())
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		if info.Size() != size {
			c.removeDebris(path, fmt.Sprintf("%d bytes, its name says %d (truncated?)", info.Size(), size))
			continue
		}
		if seen[k.id()] { // same digest, another size: only a collision or tampering makes this
			c.removeDebris(path, "a second file for one integrity")
			continue
		}
		seen[k.id()] = true
		entries = append(entries, &entry{
			id: k.id(), kind: kindTarball, dir: c.tarDir, file: name, size: size,
			access: info.ModTime(), persisted: info.ModTime(),
		})
	}
	return entries, nil
}

func (c *Cache) loadDocuments(ctx context.Context) ([]*entry, error) {
	des, err := os.ReadDir(c.docDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.docDir, err)
	}
	var metas []string                 // key hashes with a sidecar
	bodies := map[string]fs.DirEntry{} // body file name → its entry
	for _, de := range des {
		name := de.Name()
		path := filepath.Join(c.docDir, name)
		switch {
		case isTemp(name):
			c.removeDebris(path, "unfinished write")
		case !de.Type().IsRegular():
			c.log.Warn("cache: ignoring a file it did not write", "file", path, "type", de.Type())
		case isMetaFileName(name):
			metas = append(metas, strings.TrimSuffix(name, ".meta"))
		case isBodyFileName(name):
			bodies[name] = de
		default:
			c.log.Warn("cache: ignoring a file it did not write", "file", path)
		}
	}
	sidecars, err := readSidecars(ctx, c.docDir, metas)
	if err != nil {
		return nil, err
	}
	var entries []*entry
	for i, hash := range metas {
		metaPath := filepath.Join(c.docDir, metaFileName(hash))
		m, err := sidecars[i].meta, sidecars[i].err
		if err != nil {
			c.removeDebris(metaPath, err.Error())
			continue // its body is now an orphan, removed below
		}
		bodyName := bodyFileName(hash, m.Gen)
		de, ok := bodies[bodyName]
		if !ok {
			c.removeDebris(metaPath, "its body "+bodyName+" is missing")
			continue
		}
		info, err := de.Info()
		if err != nil || info.Size() != m.Size {
			c.removeDebris(metaPath, fmt.Sprintf("its body %s is not the %d bytes the sidecar records (truncated?)", bodyName, m.Size))
			continue // the body too, as an orphan
		}
		delete(bodies, bodyName)
		entries = append(entries, &entry{
			id: docID(hash), kind: kindDocument, dir: c.docDir, file: bodyName, size: m.Size,
			access: info.ModTime(), persisted: info.ModTime(), meta: m,
		})
	}
	for name := range bodies { // no sidecar names them: a crash between the two renames, or a replaced body
		c.removeDebris(filepath.Join(c.docDir, name), "no sidecar refers to it")
	}
	return entries, nil
}

type sidecarResult struct {
	meta *docMeta
	err  error
}

// readSidecars reads and parses the sidecars of hashes with a few workers:
// Open's time is mostly these small reads, and they overlap well.
func readSidecars(ctx context.Context, dir string, hashes []string) ([]sidecarResult, error) {
	results := make([]sidecarResult, len(hashes))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(hashes) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				m, err := readSidecar(filepath.Join(dir, metaFileName(hashes[i])), hashes[i])
				results[i] = sidecarResult{m, err}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func readSidecar(path, hash string) (*docMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSidecarSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return parseSidecar(path, hash, data)
}

func (c *Cache) removeDebris(path, why string) {
	c.log.Warn("cache: removing a file it cannot use", "file", path, "why", why)
	if err := removeFile(path); err != nil {
		c.log.Warn("cache: removing a file it cannot use", "file", path, "err", err)
	}
}

func isHash(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

func isMetaFileName(name string) bool {
	hash, ok := strings.CutSuffix(name, ".meta")
	return ok && isHash(hash)
}

func isBodyFileName(name string) bool {
	stem, ok := strings.CutSuffix(name, ".body")
	if !ok {
		return false
	}
	hash, gen, ok := strings.Cut(stem, ".")
	return ok && isHash(hash) && len(gen) == genLen && strings.Trim(gen, "0123456789abcdef") == ""
}
