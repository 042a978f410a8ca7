// Package lockfiletest holds helpers shared by the readers' tests.
package lockfiletest

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Dump renders a graph for golden files: importers, then packages in
// lockfile order with their flags, location and dependencies by key.
func Dump(g *lockfile.Graph) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format: %s\n", g.Format)
	for _, imp := range g.Importers {
		var deps []string
		for _, d := range imp.Dependencies {
			deps = append(deps, g.Packages[d].Key)
		}
		fmt.Fprintf(&b, "importer %q name=%q deps=[%s]\n", imp.Path, imp.Name, strings.Join(deps, " "))
	}
	for _, p := range g.Packages {
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Direct, "direct"}, {p.Dev, "dev"}, {p.Optional, "optional"}, {p.Peer, "peer"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(&b, "\n%s\n  %s@%s source=%s line=%d col=%d", p.Key, p.Name, p.Version, p.Source, p.Location.Line, p.Location.Column)
		if len(flags) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(flags, " "))
		}
		if p.Alias != "" {
			fmt.Fprintf(&b, " alias=%s", p.Alias)
		}
		b.WriteString("\n")
		if p.Resolved != "" {
			fmt.Fprintf(&b, "  resolved: %s\n", p.Resolved)
		}
		if p.Integrity != "" {
			fmt.Fprintf(&b, "  integrity: %.20s…\n", p.Integrity)
		}
		for _, d := range p.Dependencies {
			fmt.Fprintf(&b, "  -> %s\n", g.Packages[d].Key)
		}
	}
	return b.String()
}
