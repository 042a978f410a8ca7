package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
					if includeNodeModules && d.Name() == "node_modules" && !coveredByLockfile(filepath.Dir(path), p) {
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

// coveredByLockfile reports whether the project in dir is described by a
// lockfile: one in dir itself, or one in a folder above it (up to the walk's
// root) whose package.json lists dir among its workspaces. Reading that
// project's node_modules too would report every package twice, and a
// workspace's node_modules, read on its own, links out into the root's store.
func coveredByLockfile(dir, root string) bool {
	root = filepath.Clean(root)
	for cur := dir; ; {
		if lf := lockfileIn(cur); lf != "" {
			if cur == dir {
				return true
			}
			rel, err := filepath.Rel(cur, dir)
			if err == nil {
				if _, ok := projectManifests(lf)[filepath.ToSlash(rel)]; ok {
					return true
				}
			}
		}
		if cur == root {
			return false
		}
		parent := filepath.Dir(cur)
		if parent == cur || !strings.HasPrefix(parent, root) {
			return false
		}
		cur = parent
	}
}

// lockfileIn returns the path of a lockfile in dir, or "".
func lockfileIn(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if !e.IsDir() && readers.For(e.Name()) != nil {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

// ErrNothingScanned means no lockfile was found, or none yielded a package.
var ErrNothingScanned = errors.New("nothing scanned")
