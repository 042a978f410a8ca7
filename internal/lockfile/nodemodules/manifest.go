package nodemodules

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// manifest is what Read needs of an installed package.json.
type manifest struct {
	name, version       string
	resolved, integrity string // npm 6 wrote _resolved and _integrity into installed copies
	inBundle            bool   // npm 6's _inBundle
	byName              map[string]lockfile.DepKind
	dev                 []string
	bundle              []string // bundleDependencies; "*" for all
}

// parseManifest reads a package.json leniently, as npm does: fields of the
// wrong type are ignored, but the file must be JSON. Keys are matched
// exactly (encoding/json's struct decoding folds case, npm does not).
func parseManifest(data []byte) (*manifest, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		pe := &lockfile.ParseError{Msg: "not a JSON object", Err: err}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included.
			pe.Line, pe.Column = lockfile.NewLineIndex(data).Position(max(int(se.Offset)-1, 0))
			pe.Msg = "invalid JSON: " + se.Error()
		}
		return nil, pe
	}
	m := &manifest{byName: map[string]lockfile.DepKind{}}
	str := func(key string) string {
		var s string
		_ = json.Unmarshal(raw[key], &s) // a non-string is as good as absent
		return s
	}
	m.name, m.version = str("name"), str("version")
	m.resolved, m.integrity = str("_resolved"), str("_integrity")
	_ = json.Unmarshal(raw["_inBundle"], &m.inBundle)

	names := func(key string) []string {
		var deps map[string]json.RawMessage
		if json.Unmarshal(raw[key], &deps) != nil {
			return nil
		}
		out := make([]string, 0, len(deps))
		for name := range deps {
			if name != "" {
				out = append(out, name)
			}
		}
		return out
	}
	// The order npm's arborist reads them in, a later kind replacing an
	// earlier one for the same name; a dev dependency never demotes a
	// production one.
	var meta map[string]struct {
		Optional bool `json:"optional"`
	}
	_ = json.Unmarshal(raw["peerDependenciesMeta"], &meta)
	for _, name := range names("peerDependencies") {
		if meta[name].Optional {
			m.byName[name] = lockfile.KindPeerOptional
		} else {
			m.byName[name] = lockfile.KindPeer
		}
	}
	for _, name := range names("dependencies") {
		m.byName[name] = lockfile.KindProd
	}
	for _, name := range names("optionalDependencies") {
		m.byName[name] = lockfile.KindOptional
	}
	m.dev = names("devDependencies")

	for _, key := range []string{"bundleDependencies", "bundledDependencies"} {
		var all bool
		if json.Unmarshal(raw[key], &all) == nil && all {
			m.bundle = []string{"*"}
		} else {
			var list []string
			if json.Unmarshal(raw[key], &list) == nil && len(list) > 0 {
				m.bundle = list
			}
		}
	}
	return m, nil
}

// deps lists the declared dependencies, sorted by name. Only importers (the
// project and its workspaces) have their devDependencies installed.
func (m *manifest) deps(importer bool) []dep {
	out := make([]dep, 0, len(m.byName)+len(m.dev))
	for name, kind := range m.byName {
		out = append(out, dep{name, kind})
	}
	if importer {
		for _, name := range m.dev {
			if _, ok := m.byName[name]; !ok {
				out = append(out, dep{name, lockfile.KindDev})
			}
		}
	}
	slices.SortFunc(out, func(a, b dep) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}
