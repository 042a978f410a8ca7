package scan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxManifestSize bounds package.json files read beside a lockfile.
const maxManifestSize = 4 << 20

// projectManifests reads the package.json beside a lockfile and those of its
// workspaces (the root's "workspaces" globs, as npm and yarn define them),
// keyed by folder relative to the lockfile's folder ("" for the root).
// yarn v1 lockfiles do not record importers, so this is how a scan learns
// which packages are direct and which are only needed for development.
func projectManifests(lockfilePath string) map[string][]byte {
	dir := filepath.Dir(lockfilePath)
	root, err := readSmall(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil
	}
	out := map[string][]byte{"": root}
	for _, pat := range workspacePatterns(dir, root) {
		if strings.Contains(pat, "..") || filepath.IsAbs(pat) || strings.HasPrefix(pat, "!") {
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pat), "package.json"))
		for _, mf := range matches {
			data, err := readSmall(mf)
			if err != nil {
				continue
			}
			rel, err := filepath.Rel(dir, filepath.Dir(mf))
			if err != nil {
				continue
			}
			out[filepath.ToSlash(rel)] = data
		}
	}
	return out
}

// workspacePatterns returns the workspace folder globs of the project in
// dir: package.json "workspaces" (npm, yarn, bun; an array or yarn's
// {"packages": [...]}) and pnpm-workspace.yaml "packages".
func workspacePatterns(dir string, rootManifest []byte) []string {
	var patterns []string
	var m struct {
		Workspaces json.RawMessage `json:"workspaces"`
	}
	if json.Unmarshal(rootManifest, &m) == nil && len(m.Workspaces) > 0 {
		if json.Unmarshal(m.Workspaces, &patterns) != nil {
			var obj struct {
				Packages []string `json:"packages"`
			}
			if json.Unmarshal(m.Workspaces, &obj) == nil {
				patterns = obj.Packages
			}
		}
	}
	if data, err := readSmall(filepath.Join(dir, "pnpm-workspace.yaml")); err == nil {
		var ws struct {
			Packages []string `yaml:"packages"`
		}
		if yaml.Unmarshal(data, &ws) == nil {
			patterns = append(patterns, ws.Packages...)
		}
	}
	return patterns
}

func readSmall(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxManifestSize {
		return nil, os.ErrInvalid
	}
	return os.ReadFile(path)
}
