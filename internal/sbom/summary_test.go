package sbom

import (
	"fmt"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// summarize renders a Graph in one line per importer and package, so that
// tests state what a reader must produce in a form a reviewer can check
// against the fixture.
func summarize(g *lockfile.Graph) []string {
	var out []string
	label := func(i int) string { return g.Packages[i].PackageVersion.String() }
	labels := func(idx []int) string {
		s := make([]string, len(idx))
		for i, d := range idx {
			s[i] = label(d)
		}
		return strings.Join(s, ",")
	}
	for _, imp := range g.Importers {
		out = append(out, fmt.Sprintf("importer %q path=%q -> [%s]", imp.Name, imp.Path, labels(imp.Dependencies)))
	}
	for i := range g.Packages {
		p := &g.Packages[i]
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Direct, "direct"}, {p.Dev, "dev"}, {p.Optional, "optional"}, {p.DevOptional, "devOptional"}, {p.Peer, "peer"}, {p.Bundled, "bundled"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		line := fmt.Sprintf("%s key=%s line=%d src=%s", label(i), p.Key, p.Location.Line, p.Source)
		if len(flags) > 0 {
			line += " " + strings.Join(flags, ",")
		}
		if p.Alias != "" {
			line += " alias=" + p.Alias
		}
		if p.Integrity != "" {
			line += " int=" + p.Integrity[:min(len(p.Integrity), 14)]
		}
		if p.Resolved != "" {
			line += " resolved=" + p.Resolved
		}
		if len(p.Dependencies) > 0 {
			line += " -> [" + labels(p.Dependencies) + "]"
		}
		out = append(out, line)
	}
	return out
}
