// Package pnpmlock reads pnpm-lock.yaml, lockfileVersion 5.x (pnpm 5–7),
// 6.x (pnpm 8) and 9.0 (pnpm 9 and later), including the multi-document
// files pnpm 11 and later write (an "env" document for config and
// package-manager dependencies before the project's own document).
package pnpmlock

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/lockfile"
)

// Reader reads pnpm-lock.yaml.
type Reader struct{}

var _ lockfile.Reader = Reader{}

func (Reader) Name() string { return "pnpm" }

func (Reader) Matches(base string) bool { return base == "pnpm-lock.yaml" }

// keyStyle is how a lockfile version spells package keys.
type keyStyle uint8

const (
	styleV5 keyStyle = iota // /name/1.2.3_peer@1.0.0
	styleV6                 // /name@1.2.3(peer@1.0.0)
	styleV9                 // name@1.2.3(peer@1.0.0), metadata split from snapshots
)

// The dependency groups of an importer. configDependencies and
// packageManagerDependencies only appear in the env document of pnpm 11+
// lockfiles; they are installed like any other dependency (config
// dependencies into node_modules/.pnpm-config, the package manager itself to
// run the project), so a scanner must see them.
var importerGroups = []struct {
	key      string
	dev      bool
	optional bool
}{
	{"dependencies", false, false},
	{"devDependencies", true, false},
	{"optionalDependencies", false, true},
	{"configDependencies", false, false},
	{"packageManagerDependencies", false, false},
}

// Parse reads every document of data. See yamltree.go for why the YAML is
// read by hand.
func (Reader) Parse(ctx context.Context, file string, data []byte) (*lockfile.Graph, error) {
	if len(data) > lockfile.MaxFileSize {
		return nil, fmt.Errorf("%s: %w", file, lockfile.ErrTooLarge)
	}
	src := string(data)
	t, err := parseFast(src)
	if err != nil {
		fastErr := err
		if t, err = parseV3(src); err != nil {
			pe := &lockfile.ParseError{File: file, Msg: "invalid YAML: " + err.Error(), Err: err}
			var se *syntaxError
			if errors.As(err, &se) {
				pe.Line, pe.Column, pe.Msg = se.line, se.col, "invalid YAML: "+se.msg
			}
			if pe.Line == 0 && errors.As(fastErr, &se) {
				pe.Line, pe.Column = se.line, se.col
			}
			return nil, pe
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &builder{
		ctx:      ctx,
		file:     file,
		t:        t,
		g:        &lockfile.Graph{File: file},
		keys:     make(map[string]int),
		impIdx:   make(map[string]int),
		linkPkgs: make(map[string]int),
	}
	if err := b.build(); err != nil {
		return nil, err
	}
	return b.g, nil
}

type builder struct {
	ctx  context.Context
	file string
	t    *tree
	g    *lockfile.Graph

	keys     map[string]int // package key -> index in g.Packages
	impIdx   map[string]int // importer path -> index in g.Importers
	linkPkgs map[string]int // "workspace:"/"link:" + path -> package index

	recDev   []int8   // per package: dev as recorded by v5/v6 (-1 unknown)
	refName  []string // per package: the name its first dependent used
	impRoots [][]root // per importer: its dependencies and their kind
	// workspace link packages whose Dependencies mirror an importer's
	wsImporter map[int]int
	steps      int
	buf        []byte
	depArena   []int
}

type root struct {
	pkg int
	dev bool
}

// doc is one YAML document of the stream with its key style.
type doc struct {
	n     int32
	style keyStyle
}

func (b *builder) perr(n int32, useKey bool, format string, args ...any) *lockfile.ParseError {
	e := &lockfile.ParseError{File: b.file, Msg: fmt.Sprintf(format, args...)}
	if n >= 0 {
		nd := &b.t.nodes[n]
		if useKey && nd.keyLine > 0 {
			e.Line, e.Column = int(nd.keyLine), int(nd.keyCol)
		} else {
			e.Line, e.Column = int(nd.line), int(nd.col)
		}
	}
	return e
}

// tick checks the context now and then in long loops.
func (b *builder) tick() error {
	b.steps++
	if b.steps&1023 == 0 {
		return b.ctx.Err()
	}
	return nil
}

func (b *builder) build() error {
	t := b.t
	if len(t.docs) == 0 {
		return &lockfile.ParseError{File: b.file, Line: 1, Column: 1, Msg: "empty file: expected a mapping with lockfileVersion"}
	}
	var docs []doc
	// one package per snapshot (v9) or packages entry (v5, v6): count them
	// so that the slices are allocated once
	n := 0
	for _, d := range t.docs {
		for _, section := range []string{"snapshots", "packages"} {
			if s := t.get(d, section); s >= 0 {
				for e := t.nodes[s].first; e >= 0; e = t.nodes[e].next {
					n++
				}
				break
			}
		}
	}
	b.g.Packages = make([]lockfile.Package, 0, n+8)
	b.recDev = make([]int8, 0, n+8)
	b.refName = make([]string, 0, n+8)
	b.keys = make(map[string]int, n)
	for _, d := range t.docs {
		if t.nodes[d].kind != kMap {
			return b.perr(d, false, "expected a mapping with lockfileVersion, found a %s", kindName(t.nodes[d].kind))
		}
		vn := t.get(d, "lockfileVersion")
		if vn < 0 {
			return b.perr(d, false, "expected lockfileVersion")
		}
		style, format, err := versionStyle(t.str(vn))
		if err != nil {
			return b.perr(vn, false, "lockfileVersion %q: %v", t.str(vn), err)
		}
		// The project's own document comes last in pnpm 11's streams; it
		// names the format.
		b.g.Format = format
		docs = append(docs, doc{n: d, style: style})
	}
	for _, d := range docs {
		if err := b.addPackages(d); err != nil {
			return err
		}
	}
	b.wsImporter = make(map[int]int)
	for _, d := range docs {
		if err := b.addImporters(d); err != nil {
			return err
		}
	}
	for _, d := range docs {
		if err := b.addEdges(d); err != nil {
			return err
		}
	}
	b.finish()
	return nil
}

func kindName(k kind) string {
	switch k {
	case kMap:
		return "mapping"
	case kSeq:
		return "sequence"
	case kScalar:
		return "scalar"
	}
	return "null"
}

func versionStyle(v string) (keyStyle, lockfile.Format, error) {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, "", errors.New("expected a number such as 5.4, 6.0 or 9.0")
	}
	switch {
	case n < 3:
		return 0, "", errors.New("pnpm lockfiles before version 3 are not supported")
	case n <= 5: // 3.x and 4.x spell keys as 5.x does
		return styleV5, lockfile.FormatPnpmV5, nil
	case n == 6:
		return styleV6, lockfile.FormatPnpmV6, nil
	case n == 7 || n == 8:
		// pnpm 9 prereleases wrote 7.0 before settling on 9.0
		return styleV9, lockfile.FormatPnpmV9, nil
	}
	return styleV9, lockfile.FormatPnpmV9, nil
}

// mapping returns the entries of the mapping under key in m, or -1 when the
// key is absent or null; other kinds are an error.
func (b *builder) mapping(m int32, key string) (int32, error) {
	n := b.t.get(m, key)
	if n < 0 || b.t.nodes[n].kind == kNull {
		return -1, nil
	}
	if b.t.nodes[n].kind != kMap {
		return -1, b.perr(n, true, "%s: expected a mapping, found a %s", key, kindName(b.t.nodes[n].kind))
	}
	return n, nil
}

// addPackages creates one Package per snapshot (v9) or per packages entry
// (v5, v6): each peer-dependency variant is an instance of its own.
func (b *builder) addPackages(d doc) error {
	t := b.t
	pkgs, err := b.mapping(d.n, "packages")
	if err != nil {
		return err
	}
	if d.style != styleV9 {
		if pkgs < 0 {
			return nil
		}
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			if err := b.tick(); err != nil {
				return err
			}
			if err := b.addPackage(d, e, e, -1); err != nil {
				return err
			}
		}
		return nil
	}
	snaps, err := b.mapping(d.n, "snapshots")
	if err != nil {
		return err
	}
	meta := make(map[string]int32)
	if pkgs >= 0 {
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			meta[t.key(e)] = e
		}
	}
	used := make(map[int32]bool, len(meta))
	if snaps >= 0 {
		for e := t.nodes[snaps].first; e >= 0; e = t.nodes[e].next {
			if err := b.tick(); err != nil {
				return err
			}
			m, ok := meta[stripPeers(t.key(e))]
			if !ok {
				m = -1
			} else {
				used[m] = true
			}
			if err := b.addPackage(d, e, m, e); err != nil {
				return err
			}
		}
	}
	// Metadata without a snapshot is not written by pnpm, but what a
	// lockfile lists must not vanish from a scan.
	if pkgs >= 0 {
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			if !used[e] {
				if err := b.addPackage(d, e, e, -1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// addPackage adds the package whose key is entry e's; meta holds its
// resolution and name/version fields, snap its v9 snapshot (or -1).
func (b *builder) addPackage(d doc, e, meta, snap int32) error {
	t := b.t
	key := t.key(e)
	if _, dup := b.keys[key]; dup {
		// the same key in two documents of one stream is one package
		return nil
	}
	for _, n := range []int32{meta, snap} {
		if n >= 0 && t.nodes[n].kind != kMap && t.nodes[n].kind != kNull {
			return b.perr(n, true, "package %q: expected a mapping, found a %s", key, kindName(t.nodes[n].kind))
		}
	}
	p := lockfile.Package{Key: key, Source: lockfile.SourceRegistry}
	p.Location = lockfile.Location{File: b.file, Line: int(t.nodes[e].keyLine), Column: int(t.nodes[e].keyCol)}

	name, version, registryKey := splitKey(key, d.style)
	if d.style == styleV9 && !registryKey && name == "" {
		return b.perr(e, true, "package key %q: expected NAME@VERSION", key)
	}

	res := t.get(meta, "resolution")
	if res >= 0 && t.nodes[res].kind != kMap {
		return b.perr(res, false, "package %q: resolution: expected a mapping", key)
	}
	integrity, tarball := t.str(t.get(res, "integrity")), t.str(t.get(res, "tarball"))
	commit, repo, typ := t.str(t.get(res, "commit")), t.str(t.get(res, "repo")), t.str(t.get(res, "type"))
	directory := t.str(t.get(res, "directory"))
	p.Integrity = integrity
	switch {
	case commit != "" || typ == "git":
		p.Source = lockfile.SourceGit
		p.Resolved = repo
		if commit != "" {
			p.Resolved += "#" + commit
		}
	case typ == "directory" || directory != "":
		p.Source = lockfile.SourceFile
		p.Resolved = "file:" + directory
	case tarball != "":
		p.Resolved = tarball
		switch {
		case strings.HasPrefix(tarball, "file:"):
			p.Source = lockfile.SourceFile
		case isHostedGit(key, tarball):
			// github:owner/repo resolves to a codeload tarball of a commit
			p.Source = lockfile.SourceGit
		case !registryKey:
			p.Source = lockfile.SourceTarball
		}
		// else: a registry package from a registry other than the default
	case !registryKey && strings.HasPrefix(version, "file:"), !registryKey && strings.HasPrefix(key, "file:"):
		p.Source = lockfile.SourceFile
	}

	if d.style != styleV9 && (!registryKey || p.Source == lockfile.SourceGit) {
		// v5/v6 keys of tarballs, folders and git repositories (such as
		// /abs/path/to/repo/<commit>) name nothing reliable: the name and
		// version fields do, or else the dependents' names (see finish).
		name, version = "", ""
	}
	if n := t.str(t.get(meta, "name")); n != "" {
		name = n
	}
	if v := t.str(t.get(meta, "version")); v != "" {
		version = v
	}
	if version == "" {
		version = key
		if commit != "" {
			version = commit
		}
	}
	p.Name, p.Version = name, version

	flags := meta
	if snap >= 0 {
		flags = snap
	}
	p.Optional = t.str(t.get(flags, "optional")) == "true"
	rec := int8(-1)
	switch t.str(t.get(meta, "dev")) {
	case "true":
		rec = 1
	case "false":
		rec = 0
	}
	b.keys[key] = len(b.g.Packages)
	b.g.Packages = append(b.g.Packages, p)
	b.recDev = append(b.recDev, rec)
	b.refName = append(b.refName, "")
	return nil
}

// isHostedGit reports whether a tarball package is a git host's archive of
// a commit: pnpm resolves github:owner/repo to the host's tarball URL, and
// v5/v6 key such packages github.com/owner/repo/<commit> (likewise for
// gitlab and bitbucket).
func isHostedGit(key, tarball string) bool {
	for _, host := range []string{"github.com/", "gitlab.com/", "bitbucket.org/"} {
		if strings.HasPrefix(key, host) {
			return true
		}
	}
	return strings.HasPrefix(tarball, "https://codeload.github.com/") ||
		strings.HasPrefix(tarball, "https://gitlab.com/") && strings.Contains(tarball, "/-/archive/") ||
		strings.HasPrefix(tarball, "https://bitbucket.org/") && strings.Contains(tarball, "/get/")
}

// splitKey reads name and version out of a package key. registryKey is
// false for keys that are not NAME+VERSION of a registry package (v5/v6
// keys of tarballs, git repositories and local folders, v9 keys whose
// version part is a URL or a file: path).
func splitKey(key string, style keyStyle) (name, version string, registryKey bool) {
	switch style {
	case styleV5:
		rest, ok := strings.CutPrefix(key, "/")
		if !ok {
			return "", "", false
		}
		i := strings.IndexByte(rest, '/')
		if i > 0 && rest[0] == '@' {
			j := strings.IndexByte(rest[i+1:], '/')
			if j < 0 {
				return "", "", false
			}
			i += 1 + j
		}
		if i <= 0 {
			return "", "", false
		}
		name, version = rest[:i], rest[i+1:]
		if u := strings.IndexByte(version, '_'); u >= 0 {
			version = version[:u]
		}
		if version == "" || strings.IndexByte(version, '/') >= 0 {
			return "", "", false
		}
		return name, version, true
	case styleV6:
		rest, ok := strings.CutPrefix(key, "/")
		if !ok {
			return "", "", false
		}
		name, version = splitAt(rest)
		if name == "" || version == "" || strings.IndexByte(version, '/') >= 0 {
			return "", "", false
		}
		return name, version, true
	}
	name, version = splitAt(key)
	if name == "" || version == "" {
		return "", "", false
	}
	// name@1.2.3 is a registry package; name@file:…, name@https://…,
	// name@git+…, name@github.com/… are not.
	return name, version, !strings.ContainsAny(version, ":/")
}

// splitAt splits NAME@VERSION(peers) at the @ after the name and drops the
// peer suffix.
func splitAt(s string) (name, version string) {
	i := strings.IndexByte(s[min(1, len(s)):], '@')
	if i < 0 {
		return "", ""
	}
	i++
	return s[:i], stripPeers(s[i+1:])
}

// stripPeers removes trailing parenthesised groups (peer dependencies, patch
// hashes), which may nest: 1.0.0(a@1.0.0(b@2.0.0))(c@3.0.0) -> 1.0.0.
func stripPeers(v string) string {
	for strings.HasSuffix(v, ")") {
		depth, i := 0, len(v)-1
		for ; i >= 0; i-- {
			if v[i] == ')' {
				depth++
			} else if v[i] == '(' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if i < 0 {
			return v // unbalanced: keep what is there
		}
		v = v[:i]
	}
	return v
}

// addImporters records every importer (the root "." and workspace
// folders). Lockfiles of a single project before v9 have no importers
// section: their dependency groups sit at the top of the document.
func (b *builder) addImporters(d doc) error {
	t := b.t
	imps, err := b.mapping(d.n, "importers")
	if err != nil {
		return err
	}
	if imps < 0 {
		for _, g := range importerGroups {
			if t.get(d.n, g.key) >= 0 {
				b.importer(".")
				break
			}
		}
		return nil
	}
	for e := t.nodes[imps].first; e >= 0; e = t.nodes[e].next {
		if k := t.nodes[e].kind; k != kMap && k != kNull {
			return b.perr(e, true, "importer %q: expected a mapping", t.key(e))
		}
		b.importer(cleanPath(t.key(e)))
	}
	return nil
}

func (b *builder) importer(p string) int {
	if i, ok := b.impIdx[p]; ok {
		return i
	}
	b.impIdx[p] = len(b.g.Importers)
	b.g.Importers = append(b.g.Importers, lockfile.Importer{Path: p})
	b.impRoots = append(b.impRoots, nil)
	return len(b.g.Importers) - 1
}

func cleanPath(p string) string {
	if p == "" {
		return "."
	}
	return path.Clean(p)
}

// addEdges resolves the dependencies of importers and packages.
func (b *builder) addEdges(d doc) error {
	t := b.t
	imps, _ := b.mapping(d.n, "importers")
	var impEntries []int32
	if imps >= 0 {
		for e := t.nodes[imps].first; e >= 0; e = t.nodes[e].next {
			impEntries = append(impEntries, e)
		}
	} else if _, ok := b.impIdx["."]; ok {
		impEntries = append(impEntries, d.n)
	}
	for _, e := range impEntries {
		impPath := "."
		if e != d.n {
			impPath = cleanPath(t.key(e))
		}
		ii := b.impIdx[impPath]
		for _, g := range importerGroups {
			deps, err := b.mapping(e, g.key)
			if err != nil {
				return err
			}
			if deps < 0 {
				continue
			}
			for c := t.nodes[deps].first; c >= 0; c = t.nodes[c].next {
				if err := b.tick(); err != nil {
					return err
				}
				ref, err := b.refValue(c)
				if err != nil {
					return err
				}
				target := b.resolve(d.style, t.key(c), ref, impPath, c)
				if target < 0 {
					continue
				}
				b.g.Packages[target].Direct = true
				b.g.Importers[ii].Dependencies = append(b.g.Importers[ii].Dependencies, target)
				b.impRoots[ii] = append(b.impRoots[ii], root{pkg: target, dev: g.dev})
			}
		}
	}

	// package edges: v9 from snapshots, v5/v6 from packages
	section := "packages"
	if d.style == styleV9 {
		section = "snapshots"
	}
	pkgs, _ := b.mapping(d.n, section)
	if pkgs < 0 {
		return nil
	}
	if b.depArena == nil {
		// every package's Dependencies are slices of one shared array
		n := 0
		for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
			for _, group := range []string{"dependencies", "optionalDependencies"} {
				if deps := t.get(e, group); deps >= 0 {
					for c := t.nodes[deps].first; c >= 0; c = t.nodes[c].next {
						n++
					}
				}
			}
		}
		b.depArena = make([]int, 0, n)
	}
	for e := t.nodes[pkgs].first; e >= 0; e = t.nodes[e].next {
		from, ok := b.keys[t.key(e)]
		if !ok {
			continue
		}
		start := len(b.depArena)
		for _, group := range []string{"dependencies", "optionalDependencies"} {
			deps, err := b.mapping(e, group)
			if err != nil {
				return err
			}
			if deps < 0 {
				continue
			}
			for c := t.nodes[deps].first; c >= 0; c = t.nodes[c].next {
				if err := b.tick(); err != nil {
					return err
				}
				ref, err := b.refValue(c)
				if err != nil {
					return err
				}
				if to := b.resolve(d.style, t.key(c), ref, ".", c); to >= 0 && to != from {
					b.depArena = append(b.depArena, to)
				}
			}
		}
		deps := b.depArena[start:len(b.depArena):len(b.depArena)]
		if p := &b.g.Packages[from]; len(p.Dependencies) > 0 {
			// the same key in two documents
			p.Dependencies = append(p.Dependencies, deps...)
		} else {
			p.Dependencies = deps
		}
	}
	return nil
}

// refValue returns the version an importer or package records for one
// dependency: a plain string (v5 importers, all package maps) or the
// version of a {specifier, version} mapping (v6+ importers).
func (b *builder) refValue(c int32) (string, error) {
	t := b.t
	switch t.nodes[c].kind {
	case kScalar:
		return t.str(c), nil
	case kMap:
		v := t.get(c, "version")
		if t.str(v) == "" {
			return "", b.perr(c, true, "dependency %q: expected a version", t.key(c))
		}
		return t.str(v), nil
	}
	return "", b.perr(c, true, "dependency %q: expected a version, found a %s", t.key(c), kindName(t.nodes[c].kind))
}

// resolve finds the package that dependency name@ref points to; from is the
// importer folder that link: paths are relative to. It returns -1 for
// references the lockfile does not hold (such as pnpm's "missing" optional
// dependencies). at is the dependency's entry, where a link is declared.
func (b *builder) resolve(style keyStyle, name, ref, from string, at int32) int {
	if target, ok := strings.CutPrefix(ref, "link:"); ok {
		return b.link(name, path.Join(from, target), at)
	}
	ref = strings.TrimPrefix(ref, "npm:")
	// the key is built in a reused buffer: indexing a map with
	// string(bytes) does not allocate
	k := b.buf[:0]
	sep := byte('@')
	switch style {
	case styleV5:
		k, sep = append(k, '/'), '/'
	case styleV6:
		k = append(k, '/')
	}
	k = append(k, name...)
	k = append(k, sep)
	k = append(k, ref...)
	b.buf = k
	i, ok := b.keys[string(k)]
	if !ok {
		// an alias (string-width-cjs: string-width@4.2.3, /string-width/4.2.3)
		// or a key written out in full (file:…, a tarball or git key)
		if i, ok = b.keys[ref]; !ok {
			return -1
		}
	}
	p := &b.g.Packages[i]
	if b.refName[i] == "" {
		b.refName[i] = name
	}
	if p.Name != "" && name != p.Name && p.Alias == "" {
		p.Alias = name
	}
	return i
}

// link returns the package standing for a link: dependency: a workspace
// package when the folder is an importer, a linked folder otherwise. Both
// are the project's own code, not third-party packages. Such a package has
// no key of its own in the lockfile: its Location is its first dependent's
// entry.
func (b *builder) link(name, dir string, at int32) int {
	dir = cleanPath(dir)
	imp, isImporter := b.impIdx[dir]
	key := "link:" + dir
	if isImporter {
		key = "workspace:" + dir
	}
	if i, ok := b.linkPkgs[key]; ok {
		return i
	}
	p := lockfile.Package{Key: key, Source: lockfile.SourceLink}
	p.Name, p.Version = name, key
	p.Location = lockfile.Location{File: b.file, Line: int(b.t.nodes[at].keyLine), Column: int(b.t.nodes[at].keyCol)}
	if isImporter {
		p.Source = lockfile.SourceWorkspace
		if b.g.Importers[imp].Name == "" {
			b.g.Importers[imp].Name = name
		}
	}
	i := len(b.g.Packages)
	b.g.Packages = append(b.g.Packages, p)
	b.recDev = append(b.recDev, -1)
	b.refName = append(b.refName, name)
	b.linkPkgs[key] = i
	if isImporter {
		b.wsImporter[i] = imp
	}
	return i
}

// finish names packages whose keys name nothing, makes workspace packages
// depend on what their importer depends on, and works out Dev: v9 records
// no dev flag, so a package is Dev when only importers' devDependencies
// reach it. A dev flag that v5/v6 recorded wins.
func (b *builder) finish() {
	g := b.g
	for i := range g.Packages {
		p := &g.Packages[i]
		if p.Name == "" {
			p.Name = b.refName[i]
			if p.Name == "" {
				p.Name = p.Key
			}
		}
	}
	for pi, ii := range b.wsImporter {
		for _, r := range b.impRoots[ii] {
			if !r.dev && r.pkg != pi {
				g.Packages[pi].Dependencies = append(g.Packages[pi].Dependencies, r.pkg)
			}
		}
	}
	// Only Dev is worked out here: pnpm records optional itself, and a
	// package's edges carry no kind (its peers are resolved into plain
	// dependencies), so an importer's devDependencies are the only dev
	// edges.
	var roots []lockfile.Edge
	for _, rs := range b.impRoots {
		for _, r := range rs {
			e := lockfile.Edge{To: r.pkg}
			if r.dev {
				e.Kind = lockfile.KindDev
			}
			roots = append(roots, e)
		}
	}
	flags := lockfile.DepFlags(g, roots, nil)
	for i := range g.Packages {
		switch b.recDev[i] {
		case 1:
			g.Packages[i].Dev = true
		case 0:
			g.Packages[i].Dev = false
		default:
			g.Packages[i].Dev = flags[i].Dev
		}
	}
}
