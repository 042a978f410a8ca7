package sbom

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// WriteOptions are the parts of a BOM that do not come from the graphs.
type WriteOptions struct {
	// Timestamp is metadata.timestamp. The zero time leaves it out, so the
	// caller decides between "now" and a reproducible BOM.
	Timestamp time.Time
	// ToolVersion is Vigil's version, recorded in metadata.tools.
	ToolVersion string
	// SerialNumber is an optional "urn:uuid:…" identifying this BOM.
	SerialNumber string
	// ProjectName names metadata.component; by default the first graph's
	// root importer, else the folder of its lockfile.
	ProjectName string
}

// cdxSchema16 is the $schema a CycloneDX 1.6 JSON BOM declares.
const cdxSchema16 = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// rootRef is the bom-ref of metadata.component. Component refs are purls
// ("pkg:npm/…"), so it cannot collide with one.
const rootRef = "project-root"

var serialPattern = regexp.MustCompile(`^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// WriteCycloneDX writes one CycloneDX 1.6 JSON BOM for the third-party
// packages of graphs: one component per distinct name@version (the union
// of Graph.ThirdParty over the graphs), with its purl as bom-ref, its
// integrity as a hash, its resolved URL as a distribution reference, and a
// dependencies section from the graphs' edges. Output is deterministic:
// components and edges are sorted and nothing random is added.
//
// Types and encoding are cyclonedx-go's, which models 1.6 fully; the BOM is
// built with 1.6 fields only and encoded with Encode rather than
// EncodeVersion, which would deep-copy it through gob for nothing.
//
// Scopes: a package that is dev-only everywhere it appears is "excluded",
// the scope the specification gives to components used for tests and
// other non-runtime purposes and the one the CycloneDX tool maintainers
// settled on for dev dependencies (cyclonedx-node-npm#1151,
// cyclonedx-dotnet#188); it also gets the cdx:npm:package:development
// property, which is what npm sbom and cyclonedx-npm write and what
// consumers that predate the scope look for. A package that is optional
// (or devOptional) but never required is "optional"; any other is
// "required".
//
// Workspace and link packages are not components; edges through them are
// contracted, so a third-party package a workspace needs is a dependency
// of the project component.
func WriteCycloneDX(w io.Writer, graphs []*lockfile.Graph, opts WriteOptions) error {
	if opts.SerialNumber != "" && !serialPattern.MatchString(opts.SerialNumber) {
		return fmt.Errorf("writing CycloneDX: serial number %q: expected urn:uuid:<RFC 4122 UUID>", opts.SerialNumber)
	}
	b := newBOMBuilder()
	for _, g := range graphs {
		if g != nil {
			b.add(g)
		}
	}

	bom := &cdx.BOM{
		JSONSchema:   cdxSchema16,
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  cdx.SpecVersion1_6,
		SerialNumber: opts.SerialNumber,
		Version:      1,
		Metadata:     b.metadata(graphs, opts),
	}
	sorted := b.sorted()
	comps := components(sorted)
	bom.Components = &comps
	deps := b.dependencies(sorted)
	bom.Dependencies = &deps

	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false) // URLs keep their & and the BOM stays readable
	if err := enc.Encode(bom); err != nil {
		return fmt.Errorf("writing CycloneDX: %w", err)
	}
	return nil
}

// merged is one name@version across every instance in every graph.
type merged struct {
	pv         npm.PackageVersion
	ref        string
	integrity  npm.Integrity
	resolved   string
	anyProd    bool // some instance is needed at runtime
	allDev     bool // every instance is dev-only
	anyBundled bool
}

type bomBuilder struct {
	comps map[npm.PackageVersion]*merged
	deps  map[string]map[string]bool // bom-ref -> bom-refs it depends on
}

func newBOMBuilder() *bomBuilder {
	return &bomBuilder{comps: map[npm.PackageVersion]*merged{}, deps: map[string]map[string]bool{rootRef: {}}}
}

func isThirdParty(p *lockfile.Package) bool {
	return p.Source != lockfile.SourceWorkspace && p.Source != lockfile.SourceLink && p.Name != ""
}

func (b *bomBuilder) add(g *lockfile.Graph) {
	refs := make([]string, len(g.Packages)) // "" for non-third-party packages
	for i := range g.Packages {
		p := &g.Packages[i]
		if !isThirdParty(p) {
			continue
		}
		m := b.comps[p.PackageVersion]
		if m == nil {
			m = &merged{pv: p.PackageVersion, ref: npm.PURL(p.Name, p.Version), allDev: true}
			b.comps[p.PackageVersion] = m
			b.deps[m.ref] = map[string]bool{}
		}
		refs[i] = m.ref
		if m.integrity.Algorithm == "" && p.Integrity != "" {
			// An integrity npm could not check is left out rather than
			// failing the export; the lockfile readers report it.
			if in, err := npm.ParseIntegrity(p.Integrity); err == nil {
				m.integrity = in
			}
		}
		if m.resolved == "" {
			m.resolved = p.Resolved
		}
		if !p.Dev && !p.Optional && !p.DevOptional {
			m.anyProd = true
		}
		if !p.Dev {
			m.allDev = false
		}
		m.anyBundled = m.anyBundled || p.Bundled
	}

	// through[i] memoises, for a workspace or link package i, the
	// third-party refs reachable through workspace and link packages only.
	through := map[int][]string{}
	expand := func(deps []int, into map[string]bool) {
		for _, d := range deps {
			if d < 0 || d >= len(g.Packages) {
				continue
			}
			if refs[d] != "" {
				into[refs[d]] = true
				continue
			}
			rs, done := through[d]
			if !done {
				rs = b.contract(g, refs, d)
				through[d] = rs
			}
			for _, r := range rs {
				into[r] = true
			}
		}
	}
	for i := range g.Packages {
		if refs[i] == "" {
			continue
		}
		out := b.deps[refs[i]]
		expand(g.Packages[i].Dependencies, out)
		delete(out, refs[i])
	}
	for _, imp := range g.Importers {
		expand(imp.Dependencies, b.deps[rootRef])
	}
}

// contract walks from the non-third-party package start through other
// non-third-party packages and returns the third-party refs it meets.
func (b *bomBuilder) contract(g *lockfile.Graph, refs []string, start int) []string {
	seen := map[int]bool{start: true}
	queue := []int{start}
	found := map[string]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, d := range g.Packages[n].Dependencies {
			if d < 0 || d >= len(g.Packages) || seen[d] {
				continue
			}
			seen[d] = true
			if refs[d] != "" {
				found[refs[d]] = true
			} else {
				queue = append(queue, d)
			}
		}
	}
	out := make([]string, 0, len(found))
	for r := range found {
		out = append(out, r)
	}
	return out
}

func (b *bomBuilder) metadata(graphs []*lockfile.Graph, opts WriteOptions) *cdx.Metadata {
	md := &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type:    cdx.ComponentTypeApplication,
			Name:    "vigil",
			Version: opts.ToolVersion,
		}}},
		Component: &cdx.Component{
			BOMRef: rootRef,
			Type:   cdx.ComponentTypeApplication,
			Name:   projectName(graphs, opts),
		},
	}
	if !opts.Timestamp.IsZero() {
		md.Timestamp = opts.Timestamp.UTC().Format(time.RFC3339)
	}
	return md
}

func projectName(graphs []*lockfile.Graph, opts WriteOptions) string {
	if opts.ProjectName != "" {
		return opts.ProjectName
	}
	for _, g := range graphs {
		if g == nil {
			continue
		}
		for _, imp := range g.Importers {
			if (imp.Path == "" || imp.Path == ".") && imp.Name != "" {
				return imp.Name
			}
		}
		if g.File != "" {
			if dir := filepath.Base(filepath.Dir(g.File)); dir != "." && dir != string(filepath.Separator) {
				return dir
			}
		}
		break
	}
	return "project"
}

var cdxHashAlg = map[string]cdx.HashAlgorithm{
	"sha1": cdx.HashAlgoSHA1, "sha256": cdx.HashAlgoSHA256, "sha384": cdx.HashAlgoSHA384, "sha512": cdx.HashAlgoSHA512,
}

// sorted returns the merged packages in the order of Graph.ThirdParty:
// name, then version string.
func (b *bomBuilder) sorted() []*merged {
	ms := make([]*merged, 0, len(b.comps))
	for _, m := range b.comps {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y *merged) int {
		return cmp.Or(cmp.Compare(x.pv.Name, y.pv.Name), cmp.Compare(x.pv.Version, y.pv.Version))
	})
	return ms
}

func components(ms []*merged) []cdx.Component {
	out := make([]cdx.Component, 0, len(ms))
	for _, m := range ms {
		c := cdx.Component{
			BOMRef:     m.ref,
			Type:       cdx.ComponentTypeLibrary,
			Name:       m.pv.Name,
			Version:    m.pv.Version,
			PackageURL: m.ref,
			Scope:      cdx.ScopeRequired,
		}
		// The official CycloneDX npm tools put the scope in group.
		if scope := npm.Scope(m.pv.Name); scope != "" {
			c.Group, c.Name = scope, m.pv.Name[len(scope)+1:]
		}
		var props []cdx.Property
		switch {
		case m.anyProd:
		case m.allDev:
			c.Scope = cdx.ScopeExcluded
			props = append(props, cdx.Property{Name: propDevelopment, Value: "true"})
		default:
			c.Scope = cdx.ScopeOptional
		}
		if m.anyBundled {
			props = append(props, cdx.Property{Name: propBundled, Value: "true"})
		}
		if len(props) > 0 {
			c.Properties = &props
		}
		if alg, ok := cdxHashAlg[m.integrity.Algorithm]; ok {
			c.Hashes = &[]cdx.Hash{{Algorithm: alg, Value: hex.EncodeToString(m.integrity.Digest)}}
		}
		if m.resolved != "" {
			c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: m.resolved}}
		}
		out = append(out, c)
	}
	return out
}

// dependencies lists the project and then every component in component
// order, each with its sorted dependsOn; components without dependencies
// are listed with none, as the specification asks ("declared as empty
// elements").
func (b *bomBuilder) dependencies(ms []*merged) []cdx.Dependency {
	refs := make([]string, 0, len(ms)+1)
	refs = append(refs, rootRef)
	for _, m := range ms {
		refs = append(refs, m.ref)
	}
	out := make([]cdx.Dependency, 0, len(refs))
	for _, r := range refs {
		d := cdx.Dependency{Ref: r}
		if set := b.deps[r]; len(set) > 0 {
			on := make([]string, 0, len(set))
			for t := range set {
				on = append(on, t)
			}
			slices.Sort(on)
			d.Dependencies = &on
		}
		out = append(out, d)
	}
	return out
}
