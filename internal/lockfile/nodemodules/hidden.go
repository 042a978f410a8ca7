package nodemodules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/lockfile/npmlock"
)

// fromHiddenLockfile returns the graph npm recorded in
// node_modules/.package-lock.json, or nil when there is none or it cannot
// be trusted. Trust follows npm's own rule (arborist's assertNoNewer): no
// package folder is newer than the file, every folder found is listed in it,
// and everything listed was found. npm updates the file on every change it
// makes, so a mismatch means another tool or a hand touched the tree.
func (r *reader) fromHiddenLockfile() (*lockfile.Graph, error) {
	file := filepath.Join(r.nmReal, ".package-lock.json")
	fi, err := os.Stat(file)
	if err != nil {
		return nil, nil
	}
	data, err := readRegular(file, lockfile.MaxFileSize)
	if err != nil {
		return nil, nil // not there, or not something npm wrote: read the tree
	}
	g, err := npmlock.Reader{}.Parse(r.ctx, file, data)
	if err != nil {
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, nil // npm would rebuild it from the tree; so do we
	}
	if g.Format != lockfile.FormatPackageLockV2 && g.Format != lockfile.FormatPackageLockV3 {
		return nil, nil
	}
	listed := make(map[string]int, len(g.Packages))
	for i := range g.Packages {
		listed[g.Packages[i].Key] = i
	}
	v := verifier{r: r, listed: listed, lockTime: fi.ModTime(), seen: make(map[string]bool, len(listed))}
	ok, err := v.folder(r.nmReal, "node_modules", 0)
	if err != nil || !ok {
		return nil, err
	}
	for key := range listed {
		if !v.seen[key] {
			return nil, nil // listed but not installed
		}
	}

	// The hidden lockfile has no entry for the project itself: its direct
	// dependencies come from its package.json.
	root := lockfile.Importer{}
	m, err := readManifest(r.root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, r.manifestError(r.root, err)
	}
	if m != nil {
		root.Name = m.name
		for _, d := range m.deps(true) {
			i, ok := listed["node_modules/"+d.name]
			if !ok {
				continue
			}
			if p := &g.Packages[i]; p.Source == lockfile.SourceLink && len(p.Dependencies) == 1 {
				i = p.Dependencies[0]
			}
			if !contains(root.Dependencies, i) {
				root.Dependencies = append(root.Dependencies, i)
			}
		}
	}
	g.Importers[0] = root
	g.File = filepath.Join(r.project, "node_modules")
	g.Format = lockfile.FormatNodeModules
	for i := range g.Packages {
		p := &g.Packages[i]
		p.Location = lockfile.Location{File: filepath.Join(r.project, filepath.FromSlash(p.Key))}
		if p.Source != lockfile.SourceLink {
			p.Location.File = filepath.Join(p.Location.File, "package.json")
		}
	}
	finish(g)
	return g, nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// verifier walks the tree as npm does before it trusts a hidden lockfile.
type verifier struct {
	r        *reader
	listed   map[string]int
	lockTime time.Time
	seen     map[string]bool
}

// folder checks the entries of the node_modules folder nm, whose key is
// nmKey. It reports false on the first mismatch.
func (v *verifier) folder(nm, nmKey string, depth int) (bool, error) {
	if depth > maxDepth {
		return false, nil
	}
	if fi, err := os.Stat(nm); err != nil {
		return errors.Is(err, os.ErrNotExist), nil // no node_modules: nothing to check
	} else if fi.ModTime().After(v.lockTime) {
		return false, nil
	}
	ents, err := v.r.readDir(nm)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(nm, name)
		if strings.HasPrefix(name, "@") && e.IsDir() {
			ok, err := v.folder(path, nmKey+"/"+name, depth) // a scope lists like a node_modules
			if !ok || err != nil {
				return ok, err
			}
			continue
		}
		ok, err := v.pkg(path, nmKey+"/"+name, e.Type()&os.ModeSymlink != 0, depth)
		if !ok || err != nil {
			return ok, err
		}
	}
	return true, nil
}

// pkg checks one package folder (or link) found at key.
func (v *verifier) pkg(path, key string, link bool, depth int) (bool, error) {
	if _, ok := v.listed[key]; !ok {
		return false, nil
	}
	v.seen[key] = true
	if link {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return false, nil
		}
		target, inside := v.r.key(real)
		if _, ok := v.listed[target]; !ok || v.seen[target] {
			return ok, nil
		}
		if !inside {
			v.seen[target] = true // not walked: outside the project
			return true, nil
		}
		path, key = real, target
		v.seen[key] = true
	}
	fi, err := os.Stat(path)
	if err != nil || fi.ModTime().After(v.lockTime) {
		return false, nil
	}
	return v.folder(filepath.Join(path, "node_modules"), key+"/node_modules", depth+1)
}
