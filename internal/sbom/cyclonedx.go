package sbom

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
	"github.com/vigil-sec/vigil/internal/npm"
)

// CycloneDXReader reads CycloneDX JSON BOMs (spec 1.2 to 1.7; written for and
// tested with 1.4, 1.5 and 1.6, whose component, hash, purl and dependency
// fields are unchanged across those versions) into a lockfile.Graph.
//
// Components with an npm purl become packages, nested components included;
// other components are skipped, and so are dependency edges through them,
// except that a non-npm component which depends on npm packages becomes an
// importer. metadata.component is the root importer, and the dependencies
// section gives the edges.
//
// It does not use cyclonedx-go's decoder: that one builds the whole BOM,
// knows no positions, and rejects a BOM for a malformed field Vigil never
// reads (a license, a vulnerability rating). The token walker in walk.go
// reads only what a Graph needs, with the line of every component.
type CycloneDXReader struct{}

func (CycloneDXReader) Name() string { return "cyclonedx" }

// Matches accepts the names the CycloneDX specification recommends
// (bom.json, *.cdx.json) and the ones tools commonly write.
func (CycloneDXReader) Matches(base string) bool {
	b := strings.ToLower(base)
	return b == "bom.json" || b == "cyclonedx.json" ||
		strings.HasSuffix(b, ".cdx.json") || strings.HasSuffix(b, ".bom.json")
}

// cdxComponent holds the fields of a component a Graph needs.
type cdxComponent struct {
	off                int // the component's opening brace
	ref, purl          string
	group, name        string
	version, scope     string
	hashes             []cdxHash
	extRefs            []cdxExtRef
	props              []cdxProperty
	what               string // "components[3]", for messages
	hashesOff, purlOff int
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxExtRef struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// The properties npm sbom and cyclonedx-npm write, from the CycloneDX
// property taxonomy (cdx:npm namespace).
const (
	propDevelopment = "cdx:npm:package:development"
	propBundled     = "cdx:npm:package:bundled"
)

type cdxDoc struct {
	w                      *walker
	ctx                    context.Context
	bomFormat, specVersion string
	formatOff, versionOff  int
	sawFormat, sawVersion  bool
	root                   *cdxComponent
	components             []*cdxComponent
	deps                   []cdxDependency
	sawSPDX, sawLockfile   bool
	headerOnly             bool // read the header, skip the rest
}

func (CycloneDXReader) Parse(ctx context.Context, path string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", path, lockfile.ErrTooLarge, len(data), lockfile.MaxFileSize)
	}
	d := &cdxDoc{w: newWalker(path, data), ctx: ctx}
	if err := d.w.topLevel(d.visit); err != nil {
		return nil, parseFailure(path, data, err, cdxHeaderError)
	}
	if err := d.checkHeader(); err != nil {
		return nil, err
	}
	g, err := d.graph()
	if err != nil {
		return nil, parseFailure(path, data, err, nil)
	}
	return g, nil
}

// parseFailure finishes an error of a reader. A canceled read says so with
// the file's name. Otherwise, when header is given and finds that the file
// is not an SBOM of the reader's kind at all, that is the clearer message
// than a type error deep in the file.
func parseFailure(path string, data []byte, err error, header func(string, []byte) error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if header != nil {
		if herr := header(path, data); herr != nil {
			return herr
		}
	}
	return err
}

// visit reads one top-level key's value.
func (d *cdxDoc) visit(key string) error {
	w := d.w
	switch key {
	case "bomFormat":
		d.formatOff, d.sawFormat = w.valueStart(), true
		s, err := w.str("", key)
		d.bomFormat = s
		return err
	case "specVersion":
		d.versionOff, d.sawVersion = w.valueStart(), true
		s, err := w.str("", key)
		d.specVersion = s
		return err
	case "spdxVersion":
		d.sawSPDX = true
	case "lockfileVersion":
		d.sawLockfile = true
	}
	if d.headerOnly {
		return w.skip("", key)
	}
	switch key {
	case "metadata":
		return d.metadata()
	case "components":
		return d.componentList("components", 0)
	case "dependencies":
		var deps []cdxDependency
		if err := w.decode(&deps, "", key, `an array of {"ref", "dependsOn": [refs]} objects`); err != nil {
			return err
		}
		d.deps = append(d.deps, deps...)
		return nil
	}
	return w.skip("", key)
}

func (d *cdxDoc) metadata() error {
	w := d.w
	_, present, err := w.begin('{', "metadata")
	if err != nil || !present {
		return err
	}
	for {
		k, ok, err := w.key("metadata")
		if err != nil || !ok {
			return err
		}
		if k != "component" {
			if err := w.skip("metadata", k); err != nil {
				return err
			}
			continue
		}
		c, err := d.component("metadata.component", 0)
		if err != nil {
			return err
		}
		if c != nil {
			d.root = c
		}
	}
}

// componentList reads an array of components, recursing into nested ones.
func (d *cdxDoc) componentList(what string, depth int) error {
	w := d.w
	start, present, err := w.begin('[', what)
	if err != nil || !present {
		return err
	}
	if depth >= maxNesting {
		return w.errorAt(start, "%s: components nested more than %d levels deep", truncate(what, 60), maxNesting)
	}
	for i := 0; ; i++ {
		more, err := w.more(what)
		if err != nil || !more {
			return err
		}
		if len(d.components)%ctxCheckEvery == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		// Reserve the slot first so that a parent precedes its nested
		// components, as in the document.
		slot := len(d.components)
		d.components = append(d.components, nil)
		c, err := d.component(what+"["+strconv.Itoa(i)+"]", depth)
		if err != nil {
			return err
		}
		d.components[slot] = c
	}
}

// component reads one component object; nested components are appended to
// d.components as they are met. It returns nil for a null component.
func (d *cdxDoc) component(what string, depth int) (*cdxComponent, error) {
	w := d.w
	start, present, err := w.begin('{', what)
	if err != nil || !present {
		return nil, err
	}
	c := &cdxComponent{off: start, what: what}
	for {
		k, ok, err := w.key(what)
		if err != nil {
			return nil, err
		}
		if !ok {
			return c, nil
		}
		switch k {
		case "bom-ref":
			c.ref, err = w.str(what, "bom-ref")
		case "purl":
			c.purlOff = w.valueStart()
			c.purl, err = w.str(what, "purl")
		case "group":
			c.group, err = w.str(what, "group")
		case "name":
			c.name, err = w.str(what, "name")
		case "version":
			c.version, err = w.str(what, "version")
		case "scope":
			c.scope, err = w.str(what, "scope")
		case "hashes":
			c.hashesOff = w.valueStart()
			err = w.decode(&c.hashes, what, "hashes", `an array of {"alg", "content"} objects`)
		case "externalReferences":
			err = w.decode(&c.extRefs, what, "externalReferences", `an array of {"type", "url"} objects`)
		case "properties":
			err = w.decode(&c.props, what, "properties", `an array of {"name", "value"} objects`)
		case "components":
			err = d.componentList(what+".components", depth+1)
		default:
			err = w.skip(what, k)
		}
		if err != nil {
			return nil, err
		}
	}
}

// cdxSpecVersions are the CycloneDX versions with a JSON format.
var cdxSpecVersions = map[string]bool{"1.2": true, "1.3": true, "1.4": true, "1.5": true, "1.6": true, "1.7": true}

func (d *cdxDoc) checkHeader() error {
	w := d.w
	switch {
	case !d.sawFormat && d.sawSPDX:
		return w.errorAt(w.base, "this is an SPDX document, not a CycloneDX BOM (name it *.spdx.json)")
	case !d.sawFormat && d.sawLockfile:
		return w.errorAt(w.base, "this is an npm lockfile, not a CycloneDX BOM")
	case !d.sawFormat:
		return w.errorAt(w.base, `not a CycloneDX BOM: expected a top-level "bomFormat": "CycloneDX"`)
	case d.bomFormat != "CycloneDX":
		return w.errorAt(d.formatOff, `not a CycloneDX BOM: expected "bomFormat": "CycloneDX", found %q`, truncate(d.bomFormat, 40))
	case !d.sawVersion:
		return w.errorAt(w.base, `CycloneDX BOM without "specVersion"`)
	case !cdxSpecVersions[d.specVersion]:
		return w.errorAt(d.versionOff, "unsupported CycloneDX specVersion %q: expected 1.2 to 1.7 (JSON)", truncate(d.specVersion, 40))
	}
	return nil
}

// cdxHeaderError walks only the top-level keys of data, to tell a file
// that is no CycloneDX BOM from a broken one. It returns nil when the
// header looks right or cannot be read.
func cdxHeaderError(path string, data []byte) error {
	d := &cdxDoc{w: newWalker(path, data), headerOnly: true}
	if err := d.w.topLevel(d.visit); err != nil {
		return nil
	}
	return d.checkHeader()
}

func (d *cdxDoc) graph() (*lockfile.Graph, error) {
	w := d.w
	g := &lockfile.Graph{File: w.file, Format: lockfile.FormatCycloneDX}
	rootRef := ""
	root := lockfile.Importer{Path: "."}
	if d.root != nil {
		rootRef = d.root.ref
		root.Name = d.root.importerName()
	}
	g.Importers = []lockfile.Importer{root}

	keys := uniqueKeys{}
	byRef := make(map[string]int32, len(d.components))
	others := make(map[string]*cdxComponent) // non-npm components by bom-ref
	for _, c := range d.components {
		if c == nil {
			continue
		}
		if c.ref != "" && c.ref == rootRef {
			continue // some producers list the described component again
		}
		if !isNPMPURL(c.purl) {
			if _, dup := others[c.ref]; c.ref != "" && !dup {
				others[c.ref] = c
			}
			continue
		}
		p, err := d.pkg(c)
		if err != nil {
			return nil, err
		}
		key := c.ref
		if key == "" {
			key = c.purl
		}
		p.Key = keys.take(key)
		if c.ref != "" {
			if _, dup := byRef[c.ref]; !dup {
				byRef[c.ref] = int32(len(g.Packages))
			}
		}
		g.Packages = append(g.Packages, p)
	}

	// A non-npm component that depends on npm packages (a workspace or
	// sub-application of a monorepo BOM, typically) becomes an importer of
	// its own, so that what it needs is still reached and marked direct.
	pkgEdges := make([][]edge, len(g.Packages))
	impEdges := make([][]edge, 1)
	importerOf := map[string]int{}
	if rootRef != "" {
		importerOf[rootRef] = 0
	}
	for i, dep := range d.deps {
		if i%(ctxCheckEvery*16) == 0 {
			if err := d.ctx.Err(); err != nil {
				return nil, err
			}
		}
		var targets []edge
		for _, to := range dep.DependsOn {
			if j, ok := byRef[to]; ok {
				targets = append(targets, edge{to: j})
			}
		}
		if len(targets) == 0 {
			continue
		}
		if p, ok := byRef[dep.Ref]; ok {
			pkgEdges[p] = append(pkgEdges[p], targets...)
			continue
		}
		imp, ok := importerOf[dep.Ref]
		if !ok {
			c := others[dep.Ref]
			if c == nil {
				continue // a ref to nothing declared
			}
			imp = len(g.Importers)
			importerOf[dep.Ref] = imp
			// Path must not be "" or ".", which mean the root: the
			// bom-ref is the only place the SBOM gives this part.
			g.Importers = append(g.Importers, lockfile.Importer{Name: c.importerName(), Path: c.ref})
			impEdges = append(impEdges, nil)
		}
		impEdges[imp] = append(impEdges[imp], targets...)
	}
	setDependencies(g, pkgEdges, impEdges)
	return g, nil
}

// importerName names a component that stands for (part of) the project.
func (c *cdxComponent) importerName() string {
	if isNPMPURL(c.purl) {
		// npm sbom names the root component after its folder but gives
		// the package's real name in the purl.
		if p, err := parseNPMPURL(c.purl); err == nil {
			return p.name
		}
	}
	switch {
	case c.group != "" && c.name != "":
		return c.group + "/" + c.name
	case c.name != "":
		return c.name
	}
	return c.ref
}

func (c *cdxComponent) fullName() string {
	if c.group == "" {
		return c.name
	}
	if strings.HasPrefix(c.group, "@") {
		return c.group + "/" + c.name
	}
	return "@" + c.group + "/" + c.name
}

func (d *cdxDoc) pkg(c *cdxComponent) (lockfile.Package, error) {
	w := d.w
	pu, err := parseNPMPURL(c.purl)
	if err != nil {
		return lockfile.Package{}, w.errorAt(c.purlOff, "%s.purl: %v", c.what, err)
	}
	p := lockfile.Package{Location: w.location(c.off)}
	p.Name, p.Version = pu.name, pu.version
	if p.Version == "" {
		p.Version = c.version
	}
	// npm sbom names an aliased package (ms-alias → npm:ms@2.1.2) by its
	// alias and puts the real package in the purl.
	// Tools that split the scope into "group" but leave it out are not
	// aliasing anything, and names npm would not accept are not aliases.
	if full := c.fullName(); c.name != "" && full != p.Name && strings.TrimPrefix(p.Name, npm.Scope(p.Name)+"/") != full &&
		npm.ValidateName(full) == nil {
		p.Alias = full
	}

	hashes := make([]hexHash, len(c.hashes))
	for i, h := range c.hashes {
		hashes[i] = hexHash{alg: h.Alg, hex: h.Content, index: i}
	}
	integrity, bad, err := integrityFromHex(hashes)
	if err != nil {
		return lockfile.Package{}, w.errorAt(c.hashesOff, "%s.hashes[%d]: %v", c.what, bad.index, err)
	}
	p.Integrity = integrity

	for _, r := range c.extRefs {
		if r.Type == "distribution" && r.URL != "" {
			p.Resolved = r.URL
			break
		}
	}
	if p.Resolved == "" {
		p.Resolved = pu.downloadURL
	}
	if p.Resolved == "" {
		p.Resolved = pu.vcsURL
	}
	p.Source = sourceOf(p.Resolved, pu.vcsURL != "")

	for _, pr := range c.props {
		switch {
		case pr.Name == propDevelopment && pr.Value == "true":
			p.Dev = true
		case pr.Name == propBundled && pr.Value == "true":
			p.Bundled = true
		}
	}
	// "excluded" is the scope the CycloneDX specification gives to
	// components used for tests and other non-runtime purposes, which is
	// what npm calls dev. npm sbom marks dev packages "optional" plus the
	// development property, so "optional" only means optional when that
	// property is absent.
	switch c.scope {
	case "excluded":
		p.Dev = true
	case "optional":
		p.Optional = !p.Dev
	}
	return p, nil
}
