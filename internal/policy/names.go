package policy

import (
	"fmt"
	"path"
	"strings"

	"github.com/vigil-sec/vigil/internal/config"
)

// namePatterns is a list of package names and globs (path.Match on the
// whole name: "@types/*" is every package of the scope), compiled so the
// common case, an exact name, is one map lookup.
type namePatterns struct {
	exact map[string]bool
	globs []string
}

func compileNames(field string, patterns []string) (namePatterns, error) {
	np := namePatterns{exact: make(map[string]bool, len(patterns))}
	for i, p := range patterns {
		if err := config.ValidateNamePattern(p); err != nil {
			return namePatterns{}, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		if strings.ContainsAny(p, `*?[\`) {
			np.globs = append(np.globs, p)
		} else {
			np.exact[p] = true
		}
	}
	return np, nil
}

// match returns the pattern that covers name, or "".
func (np namePatterns) match(name string) string {
	if np.exact[name] {
		return name
	}
	for _, g := range np.globs {
		if ok, _ := path.Match(g, name); ok {
			return g
		}
	}
	return ""
}
