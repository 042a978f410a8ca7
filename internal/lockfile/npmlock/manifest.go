package npmlock

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// AttachRootManifest completes a lockfileVersion 1 graph with the project's
// package.json. Version 1 does not record what the root itself depends on,
// so Parse can only guess (top-level packages nothing else requires); a
// direct dependency that another package also requires is missed. With the
// manifest the root importer gets exactly the top-level packages it names.
// Graphs of other versions are left as they are.
func AttachRootManifest(g *lockfile.Graph, manifest []byte) error {
	if g.Format != lockfile.FormatPackageLockV1 && g.Format != lockfile.FormatShrinkwrapV1 {
		return nil
	}
	if len(g.Importers) == 0 || len(manifest) == 0 {
		return nil
	}
	var m struct {
		Name                 string            `json:"name"`
		Dependencies         map[string]string `json:"dependencies"`
		DevDependencies      map[string]string `json:"devDependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
		PeerDependencies     map[string]string `json:"peerDependencies"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("reading package.json beside %s: %w", g.File, err)
	}
	topLevel := make(map[string]int, len(g.Packages))
	for i := range g.Packages {
		if name, ok := topLevelName(g.Packages[i].Key); ok {
			topLevel[name] = i
		}
	}
	root := &g.Importers[0]
	for _, deps := range []map[string]string{m.Dependencies, m.DevDependencies, m.OptionalDependencies, m.PeerDependencies} {
		for name := range deps {
			i, ok := topLevel[name]
			if !ok || slices.Contains(root.Dependencies, i) {
				continue
			}
			root.Dependencies = append(root.Dependencies, i)
			g.Packages[i].Direct = true
		}
	}
	slices.Sort(root.Dependencies)
	if root.Name == "" {
		root.Name = m.Name
	}
	return nil
}

// topLevelName returns the folder name of a package installed directly in
// the root node_modules ("node_modules/debug", "node_modules/@babel/core").
func topLevelName(key string) (string, bool) {
	const prefix = "node_modules/"
	if len(key) <= len(prefix) || key[:len(prefix)] != prefix {
		return "", false
	}
	name := key[len(prefix):]
	for i, n := 0, 0; i < len(name); i++ {
		if name[i] == '/' {
			n++
			if name[0] != '@' || n > 1 {
				return "", false
			}
		}
	}
	return name, true
}
