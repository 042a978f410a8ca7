package sbom

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// SPDXReader reads SPDX 2.3 JSON documents (2.2 too: the fields it reads
// are the same) into a lockfile.Graph.
//
// Packages with an npm purl among their externalRefs become packages. The
// packages the document describes (documentDescribes, or a DESCRIBES
// relationship from the document) are the importers. Dependency
// relationships give edges, with npm's flags: npm sbom writes
// DEPENDENCY_OF, DEV_DEPENDENCY_OF, OPTIONAL_DEPENDENCY_OF and
// PREREQUISITE_FOR (peers); DEPENDS_ON, HAS_PREREQUISITE and the other
// *_DEPENDENCY_OF types are read too. CONTAINS gives an edge when nothing
// better does: from an importer only if it has no dependency
// relationships of its own (tools like syft say "the project CONTAINS
// every package", which would make all of them direct), between packages
// always.
type SPDXReader struct{}

func (SPDXReader) Name() string { return "spdx" }

// Matches accepts the names the SPDX specification recommends for JSON
// documents.
func (SPDXReader) Matches(base string) bool {
	b := strings.ToLower(base)
	return b == "spdx.json" || strings.HasSuffix(b, ".spdx.json")
}

type spdxPackage struct {
	off                int
	what               string
	id, name, version  string
	download           string
	refs               []spdxExternalRef
	checksums          []spdxChecksum
	refsOff, checksOff int
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRelationship struct {
	From string `json:"spdxElementId"`
	Type string `json:"relationshipType"`
	To   string `json:"relatedSpdxElement"`
}

type spdxDoc struct {
	w                   *walker
	ctx                 context.Context
	version             string
	versionOff          int
	sawVersion          bool
	docID               string
	describes           []string
	packages            []*spdxPackage
	rels                []spdxRelationship
	sawCycloneDX, sawLD bool
	sawLockfile         bool
	headerOnly          bool // read the header, skip the rest
}

func (SPDXReader) Parse(ctx context.Context, path string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %w (%d bytes, limit %d)", path, lockfile.ErrTooLarge, len(data), lockfile.MaxFileSize)
	}
	d := &spdxDoc{w: newWalker(path, data), ctx: ctx}
	if err := d.w.topLevel(d.visit); err != nil {
		return nil, parseFailure(path, data, err, spdxHeaderError)
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

// visit reads one top-level key's value.
func (d *spdxDoc) visit(key string) error {
	w := d.w
	switch key {
	case "spdxVersion":
		d.versionOff, d.sawVersion = w.valueStart(), true
		s, err := w.str("", key)
		d.version = s
		return err
	case "bomFormat":
		d.sawCycloneDX = true
	case "@context", "@graph":
		d.sawLD = true
	case "lockfileVersion":
		d.sawLockfile = true
	}
	if d.headerOnly {
		return w.skip("", key)
	}
	switch key {
	case "SPDXID":
		s, err := w.str("", key)
		d.docID = s
		return err
	case "documentDescribes":
		var ids []string
		if err := w.decode(&ids, "", key, "an array of SPDX identifiers"); err != nil {
			return err
		}
		d.describes = append(d.describes, ids...)
		return nil
	case "packages":
		return d.packageList()
	case "relationships":
		var rels []spdxRelationship
		if err := w.decode(&rels, "", key, `an array of {"spdxElementId", "relationshipType", "relatedSpdxElement"} objects`); err != nil {
			return err
		}
		d.rels = append(d.rels, rels...)
		return nil
	}
	return w.skip("", key)
}

func (d *spdxDoc) packageList() error {
	w := d.w
	_, present, err := w.begin('[', "packages")
	if err != nil || !present {
		return err
	}
	for i := 0; ; i++ {
		more, err := w.more("packages")
		if err != nil || !more {
			return err
		}
		if i%ctxCheckEvery == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		what := "packages[" + strconv.Itoa(i) + "]"
		start, present, err := w.begin('{', what)
		if err != nil {
			return err
		}
		if !present {
			continue
		}
		p := &spdxPackage{off: start, what: what}
		for {
			k, ok, err := w.key(what)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch k {
			case "SPDXID":
				p.id, err = w.str(what, "SPDXID")
			case "name":
				p.name, err = w.str(what, "name")
			case "versionInfo":
				p.version, err = w.str(what, "versionInfo")
			case "downloadLocation":
				p.download, err = w.str(what, "downloadLocation")
			case "externalRefs":
				p.refsOff = w.valueStart()
				err = w.decode(&p.refs, what, "externalRefs", `an array of {"referenceCategory", "referenceType", "referenceLocator"} objects`)
			case "checksums":
				p.checksOff = w.valueStart()
				err = w.decode(&p.checksums, what, "checksums", `an array of {"algorithm", "checksumValue"} objects`)
			default:
				err = w.skip(what, k)
			}
			if err != nil {
				return err
			}
		}
		d.packages = append(d.packages, p)
	}
}

func (d *spdxDoc) checkHeader() error {
	w := d.w
	switch {
	case !d.sawVersion && d.sawCycloneDX:
		return w.errorAt(w.base, "this is a CycloneDX BOM, not an SPDX document (name it *.cdx.json)")
	case !d.sawVersion && d.sawLD:
		return w.errorAt(w.base, "this looks like SPDX 3 JSON-LD, which Vigil does not read: export SPDX 2.3 JSON")
	case !d.sawVersion && d.sawLockfile:
		return w.errorAt(w.base, "this is an npm lockfile, not an SPDX document")
	case !d.sawVersion:
		return w.errorAt(w.base, `not an SPDX document: expected a top-level "spdxVersion": "SPDX-2.3"`)
	case d.version != "SPDX-2.3" && d.version != "SPDX-2.2":
		return w.errorAt(d.versionOff, `unsupported spdxVersion %q: expected "SPDX-2.3" (or "SPDX-2.2")`, truncate(d.version, 40))
	}
	return nil
}

// spdxHeaderError walks only the top-level keys of data, to tell a file
// that is no SPDX document from a broken one. It returns nil when the
// header looks right or cannot be read.
func spdxHeaderError(path string, data []byte) error {
	d := &spdxDoc{w: newWalker(path, data), headerOnly: true}
	if err := d.w.topLevel(d.visit); err != nil {
		return nil
	}
	return d.checkHeader()
}

// spdxEdges maps a relationship type to the direction and kind of the
// dependency it records. forward means "From depends on To".
var spdxEdges = map[string]struct {
	forward bool
	kind    edgeKind
}{
	"DEPENDS_ON":             {true, edgeProd},
	"HAS_PREREQUISITE":       {true, edgePeer},
	"CONTAINS":               {true, edgeContains},
	"DEPENDENCY_OF":          {false, edgeProd},
	"RUNTIME_DEPENDENCY_OF":  {false, edgeProd},
	"PROVIDED_DEPENDENCY_OF": {false, edgeProd},
	"DEV_DEPENDENCY_OF":      {false, edgeDev},
	"TEST_DEPENDENCY_OF":     {false, edgeDev},
	"BUILD_DEPENDENCY_OF":    {false, edgeDev},
	"OPTIONAL_DEPENDENCY_OF": {false, edgeOptional},
	"PREREQUISITE_FOR":       {false, edgePeer},
	"CONTAINED_BY":           {false, edgeContains},
}

// spdxNode is what an SPDXID stands for in the Graph.
type spdxNode struct {
	pkg, importer int32 // -1 when not one
}

func (d *spdxDoc) graph() (*lockfile.Graph, error) {
	w := d.w
	g := &lockfile.Graph{File: w.file, Format: lockfile.FormatSPDX}
	docID := d.docID
	if docID == "" {
		docID = "SPDXRef-DOCUMENT"
	}

	// The described elements are the importers, in the order the document
	// names them.
	described := make(map[string]bool)
	var importerIDs []string
	describe := func(id string) {
		if id != "" && !described[id] {
			described[id] = true
			importerIDs = append(importerIDs, id)
		}
	}
	for _, id := range d.describes {
		describe(id)
	}
	for _, r := range d.rels {
		switch {
		case r.Type == "DESCRIBES" && r.From == docID:
			describe(r.To)
		case r.Type == "DESCRIBED_BY" && r.To == docID:
			describe(r.From)
		}
	}

	byID := make(map[string]spdxNode, len(d.packages))
	pkgByID := make(map[string]*spdxPackage, len(d.packages))
	for _, p := range d.packages {
		if _, dup := pkgByID[p.id]; !dup && p.id != "" {
			pkgByID[p.id] = p
		}
	}
	addImporter := func(id string) int32 {
		imp := lockfile.Importer{Name: id, Path: id}
		if len(g.Importers) == 0 {
			imp.Path = "." // the first described element is the project
		}
		if p := pkgByID[id]; p != nil && p.name != "" {
			imp.Name = p.name
			if pu, ok := p.npmPURL(); ok {
				if parsed, err := parseNPMPURL(pu); err == nil {
					imp.Name = parsed.name
				}
			}
		}
		n := int32(len(g.Importers))
		byID[id] = spdxNode{pkg: -1, importer: n}
		g.Importers = append(g.Importers, imp)
		return n
	}
	for _, id := range importerIDs {
		addImporter(id)
	}
	if len(g.Importers) == 0 {
		// Nothing described: there is a project, the SBOM just does not
		// say which package it is.
		g.Importers = []lockfile.Importer{{Path: "."}}
	}

	keys := uniqueKeys{}
	for _, p := range d.packages {
		if described[p.id] {
			continue
		}
		purl, ok := p.npmPURL()
		if !ok {
			continue
		}
		pkg, err := d.pkg(p, purl)
		if err != nil {
			return nil, err
		}
		key := p.id
		if key == "" {
			key = purl
		}
		pkg.Key = keys.take(key)
		if _, dup := byID[p.id]; !dup && p.id != "" {
			byID[p.id] = spdxNode{pkg: int32(len(g.Packages)), importer: -1}
		}
		g.Packages = append(g.Packages, pkg)
	}

	// A package without an npm purl that depends on npm packages (a
	// workspace, an application of a monorepo, the folder syft scanned)
	// becomes an importer of its own, so that what it needs is reached.
	pkgEdges := make([][]edge, len(g.Packages))
	var impEdges, impContains [][]edge
	for i, r := range d.rels {
		if i%(ctxCheckEvery*16) == 0 {
			if err := d.ctx.Err(); err != nil {
				return nil, err
			}
		}
		how, ok := spdxEdges[r.Type]
		if !ok {
			continue
		}
		from, to := r.From, r.To
		if !how.forward {
			from, to = to, from
		}
		dst, ok := byID[to]
		if !ok || dst.pkg < 0 {
			continue // a non-npm element, an importer as a target, NOASSERTION
		}
		src, ok := byID[from]
		if !ok {
			if pkgByID[from] == nil {
				continue // an element of another document, a file, NOASSERTION
			}
			addImporter(from)
			src = byID[from]
		}
		e := edge{to: dst.pkg, kind: how.kind}
		if src.pkg >= 0 {
			pkgEdges[src.pkg] = append(pkgEdges[src.pkg], e)
			continue
		}
		for int(src.importer) >= len(impEdges) {
			impEdges = append(impEdges, nil)
			impContains = append(impContains, nil)
		}
		if how.kind == edgeContains {
			impContains[src.importer] = append(impContains[src.importer], e)
		} else {
			impEdges[src.importer] = append(impEdges[src.importer], e)
		}
	}
	for len(impEdges) < len(g.Importers) {
		impEdges = append(impEdges, nil)
		impContains = append(impContains, nil)
	}
	for i := range impEdges {
		if len(impEdges[i]) == 0 {
			impEdges[i] = impContains[i]
		}
	}
	setDependencies(g, pkgEdges, impEdges)
	setFlagsFromKinds(g, pkgEdges, impEdges)
	return g, nil
}

// npmPURL returns the package's first npm purl reference. SPDX 2.3 spells
// the category PACKAGE-MANAGER and 2.2 PACKAGE_MANAGER; the reference type
// alone is decisive.
func (p *spdxPackage) npmPURL() (string, bool) {
	for _, r := range p.refs {
		if r.Type == "purl" && isNPMPURL(r.Locator) {
			return r.Locator, true
		}
	}
	return "", false
}

func (d *spdxDoc) pkg(p *spdxPackage, purl string) (lockfile.Package, error) {
	w := d.w
	pu, err := parseNPMPURL(purl)
	if err != nil {
		return lockfile.Package{}, w.errorAt(p.refsOff, "%s.externalRefs: %v", p.what, err)
	}
	pkg := lockfile.Package{Location: w.location(p.off)}
	pkg.Name, pkg.Version = pu.name, pu.version
	if pkg.Version == "" {
		pkg.Version = p.version
	}
	hashes := make([]hexHash, len(p.checksums))
	for i, c := range p.checksums {
		hashes[i] = hexHash{alg: c.Algorithm, hex: c.Value, index: i}
	}
	integrity, bad, err := integrityFromHex(hashes)
	if err != nil {
		return lockfile.Package{}, w.errorAt(p.checksOff, "%s.checksums[%d]: %v", p.what, bad.index, err)
	}
	pkg.Integrity = integrity
	// NOASSERTION and NONE are SPDX's "unknown" and "nowhere".
	if dl := p.download; dl != "" && dl != "NOASSERTION" && dl != "NONE" {
		pkg.Resolved = dl
	}
	if pkg.Resolved == "" {
		pkg.Resolved = pu.downloadURL
	}
	if pkg.Resolved == "" {
		pkg.Resolved = pu.vcsURL
	}
	pkg.Source = sourceOf(pkg.Resolved, pu.vcsURL != "")
	return pkg, nil
}
