package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/vigil-sec/vigil/internal/lockfile/readers"
)

// target is one thing to read: a lockfile/SBOM file or a node_modules tree.
type target struct {
	path        string
	nodeModules bool
}

// skipDirs are never walked into unless asked: they hold installed or
// version-control copies, not the project's own lockfiles.
var skipDirs = map[string]bool{"node_modules": true, ".git": true, ".yarn": true, ".pnpm-store": true}

// discover expands the user's paths into targets. A file is read as given;
// a directory named node_modules is read as an installed tree; any other
// directory is walked for lockfiles and SBOMs.
func discover(ctx context.Context, paths, lockfiles []string, includeNodeModules bool) ([]target, error) {
	var out []target
	seen := make(map[string]bool)
	add := func(t target) {
		if abs, err := filepath.Abs(t.path); err == nil && !seen[abs] {
			seen[abs] = true
			out = append(out, t)
		}
	}
	for _, lf := range lockfiles {
		add(target{path: lf})
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("scan path: %w", err)
		}
		if !st.IsDir() {
			add(target{path: p})
			continue
		}
		if filepath.Base(filepath.Clean(p)) == "node_modules" {
			add(target{path: p, nodeModules: true})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				// An unreadable folder deep in a tree should not abort the
				// scan of everything else; the root itself must be readable.
				if path == p {
					return err
				}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if d.IsDir() {
				if path != p && skipDirs[d.Name()] {
					if includeNodeModules && d.Name() == "node_modules" && !hasLockfileSibling(filepath.Dir(path)) {
						add(target{path: path, nodeModules: true})
					}
					return fs.SkipDir
				}
				return nil
			}
			if readers.For(path) != nil || readers.IsBinaryBunLock(path) {
				add(target{path: path})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", p, err)
		}
	}
	slices.SortStableFunc(out, func(a, b target) int {
		if a.path < b.path {
			return -1
		}
		if a.path > b.path {
			return 1
		}
		return 0
	})
	return out, nil
}

// hasLockfileSibling reports whether dir holds a lockfile; its tree is then
// already described by the lockfile and reading node_modules too would
// report every package twice.
func hasLockfileSibling(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && readers.For(e.Name()) != nil {
			return true
		}
	}
	return false
}

// ErrNothingScanned means no lockfile was found, or none yielded a package.
var ErrNothingScanned = errors.New("nothing scanned")
