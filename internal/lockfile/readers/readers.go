// Package readers is the explicit registry of lockfile readers: which
// reader handles which file, and reading a file or tree into a Graph with
// size limits. It exists apart from package lockfile so that each format's
// reader can live in a package of its own.
package readers

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/bunlock"
	"github.com/vigil-sec/vigil/internal/lockfile/nodemodules"
	"github.com/vigil-sec/vigil/internal/lockfile/npmlock"
	"github.com/vigil-sec/vigil/internal/lockfile/pnpmlock"
	"github.com/vigil-sec/vigil/internal/lockfile/yarnlock"
	"github.com/vigil-sec/vigil/internal/sbom"
)

// MaxFileSize bounds what a reader accepts; the largest real lockfiles are a
// few tens of megabytes.
const MaxFileSize int64 = 256 << 20

// all lists the file readers, tried in order; the first whose Matches
// accepts the base name reads the file.
var all = []lockfile.Reader{
	npmlock.Reader{},
	yarnlock.Reader{},
	pnpmlock.Reader{},
	bunlock.Reader{},
	sbom.CycloneDXReader{},
	sbom.SPDXReader{},
}

// All returns the registered file readers.
func All() []lockfile.Reader { return all }

// For returns the reader for a file name, or nil.
func For(path string) lockfile.Reader {
	base := filepath.Base(path)
	for _, r := range all {
		if r.Matches(base) {
			return r
		}
	}
	return nil
}

// IsBinaryBunLock reports bun's binary lockfile, which has no reader; the
// scan tells the user how to produce a text lockfile instead.
func IsBinaryBunLock(path string) bool { return filepath.Base(path) == "bun.lockb" }

// ReadFile reads and parses one lockfile or SBOM, refusing files over limit
// bytes (MaxFileSize when limit is 0).
func ReadFile(ctx context.Context, path string, limit int64) (*lockfile.Graph, error) {
	if IsBinaryBunLock(path) {
		return nil, fmt.Errorf("%s: %w: bun.lockb is bun's binary lockfile; write a text bun.lock with `bun install --save-text-lockfile --frozen-lockfile --lockfile-only` (bun 1.1.39 or later; bun 1.2 writes bun.lock by default) and scan that", path, lockfile.ErrUnsupported)
	}
	r := For(path)
	if r == nil {
		return nil, fmt.Errorf("%s: %w: not a lockfile or SBOM name Vigil knows (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock, *.cdx.json, bom.json, *.spdx.json)", path, lockfile.ErrUnsupported)
	}
	if limit <= 0 {
		limit = MaxFileSize
	}
	data, err := readLimited(path, limit)
	if err != nil {
		return nil, err
	}
	return r.Parse(ctx, path, data)
}

// ReadNodeModules reads an installed node_modules tree.
func ReadNodeModules(ctx context.Context, dir string) (*lockfile.Graph, error) {
	return nodemodules.Read(ctx, dir)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes; the limit is %d, raise it with --max-file-size)", path, lockfile.ErrTooLarge, st.Size(), limit)
	}
	// Read one byte past the limit so a file that grows while we read it is
	// still refused rather than truncated.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (limit %d bytes)", path, lockfile.ErrTooLarge, limit)
	}
	return data, nil
}
