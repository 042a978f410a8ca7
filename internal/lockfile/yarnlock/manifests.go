package yarnlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// AttachManifests adds to g, read from a yarn.lock, what only the project's
// package.json files tell. manifests maps the path of each package.json
// relative to the lockfile's folder ("package.json",
// "packages/web/package.json") to its content; pass the root's and those of
// its workspaces.
//
// Each manifest becomes an Importer (Berry lockfiles have them already; the
// manifest is matched to the workspace at the same path), the packages its
// dependencies, devDependencies, optionalDependencies and
// peerDependencies resolve to are marked Direct, and Dev, Optional and
// DevOptional are computed again from how each package is reached: dev when
// only devDependencies lead to it. Peer dependencies are importers' edges
// but not roots of that walk, since yarn does not install a package for
// being a peer.
//
// Dependencies the lockfile has no entry for are left out: in yarn v1 those
// are the project's own workspaces. A manifest that is not valid JSON is
// reported in the returned error and skipped; the others are still applied.
//
// The graph does not keep which of a package's edges are optional. A
// package that the lockfile alone showed optional (Parse's flags) is taken
// as reached through an optional edge from any package that is not itself
// optional; this is exact unless a package is both a required direct
// dependency and, elsewhere, only an optional one.
func AttachManifests(g *lockfile.Graph, manifests map[string][]byte) error {
	if g == nil {
		return errors.New("yarnlock: AttachManifests: nil graph")
	}
	berry := g.Format == lockfile.FormatYarnBerry
	idx := newIndex(g.Packages, berry)
	lockOpt := make([]bool, len(g.Packages))
	for i := range g.Packages {
		lockOpt[i] = g.Packages[i].Optional || g.Packages[i].DevOptional
	}

	paths := make([]string, 0, len(manifests))
	for p := range manifests {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var errs []error
	var roots []rootEdge
	fromManifest := make(map[int]map[int]bool) // importer → packages a manifest listed
	for _, mp := range paths {
		m, err := readManifest(manifests[mp])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", mp, err))
			continue
		}
		dir := path.Dir(path.Clean(filepath.ToSlash(mp)))
		ii := slices.IndexFunc(g.Importers, func(imp lockfile.Importer) bool {
			return imp.Path == dir || isRootPath(imp.Path) && dir == "."
		})
		if ii < 0 {
			g.Importers = append(g.Importers, lockfile.Importer{Name: m.Name, Path: dir})
			ii = len(g.Importers) - 1
		} else if !berry {
			g.Importers[ii].Dependencies = nil // attached again: start over
		}
		imp := &g.Importers[ii]
		if imp.Name == "" {
			imp.Name = m.Name
		}
		from := imp.Name + "@workspace:" + imp.Path
		listed := make(map[int]bool)
		fromManifest[ii] = listed
		has := make(map[int]bool, len(imp.Dependencies))
		for _, t := range imp.Dependencies {
			has[t] = true
		}
		for _, kind := range []struct {
			deps                map[string]string
			dev, optional, peer bool
		}{
			{deps: m.Dependencies},
			{deps: m.OptionalDependencies, optional: true},
			{deps: m.DevDependencies, dev: true},
			{deps: m.PeerDependencies, peer: true},
		} {
			for _, name := range sortedKeys(kind.deps) {
				t := idx.resolve(name, kind.deps[name], from, berry && !kind.peer)
				if t < 0 {
					continue
				}
				if !has[int(t)] {
					has[int(t)] = true
					imp.Dependencies = append(imp.Dependencies, int(t))
				}
				g.Packages[t].Direct = true
				if !kind.peer {
					listed[int(t)] = true
					roots = append(roots, rootEdge{pkg: t, dev: kind.dev, optional: kind.optional})
				}
			}
		}
	}
	// What the lockfile says an importer depends on and no manifest
	// listed (a Berry workspace without its manifest, an entry the
	// manifest no longer has) counts as a prod dependency.
	for ii, imp := range g.Importers {
		for _, t := range imp.Dependencies {
			if !fromManifest[ii][t] {
				roots = append(roots, rootEdge{pkg: int32(t), optional: lockOpt[t]})
			}
		}
	}
	setFlags(g, roots, func(from, k int) bool {
		return lockOpt[g.Packages[from].Dependencies[k]] && !lockOpt[from]
	})
	sortImporters(g.Importers)
	return errors.Join(errs...)
}

type manifest struct {
	Name                 string
	Dependencies         map[string]string
	DevDependencies      map[string]string
	OptionalDependencies map[string]string
	PeerDependencies     map[string]string
}

// readManifest reads the fields of package.json used here. Values of the
// wrong type are ignored, as npm and yarn do with ranges that are not
// strings.
func readManifest(data []byte) (manifest, error) {
	var raw struct {
		Name                 any            `json:"name"`
		Dependencies         map[string]any `json:"dependencies"`
		DevDependencies      map[string]any `json:"devDependencies"`
		OptionalDependencies map[string]any `json:"optionalDependencies"`
		PeerDependencies     map[string]any `json:"peerDependencies"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return manifest{}, err
		}
		// A field of another shape ("dependencies": []) is no
		// dependency; the other fields were still decoded.
	}
	m := manifest{
		Dependencies:         stringsOnly(raw.Dependencies),
		DevDependencies:      stringsOnly(raw.DevDependencies),
		OptionalDependencies: stringsOnly(raw.OptionalDependencies),
		PeerDependencies:     stringsOnly(raw.PeerDependencies),
	}
	m.Name, _ = raw.Name.(string)
	return m, nil
}

func stringsOnly(in map[string]any) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
