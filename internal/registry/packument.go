package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Media types of the two packument formats the npm registry serves.
const (
	// MediaTypeJSON is the full document, with every version's whole
	// package.json, _npmUser, maintainers and the time map.
	MediaTypeJSON = "application/json"
	// MediaTypeAbbreviated is the "corgi" document npm install asks for:
	// only what installing needs (no time, no _npmUser, no scripts but a
	// hasInstallScript flag) plus a top-level "modified".
	MediaTypeAbbreviated = "application/vnd.npm.install-v1+json"
	// acceptAbbreviated is what npm itself sends, falling back to JSON.
	acceptAbbreviated = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
)

// Packument is a package document as the registry serves it at /<name>.
//
// Decoding is lenient where the registry's data is historically untidy
// (old package.json fields of the wrong type, people as strings, "time"
// entries that are not timestamps) and strict only about JSON syntax and a
// version that is not an object: one odd field in a 2012 release must not
// make a whole package unreadable, but a document that is not a packument
// must not pass for one.
type Packument struct {
	Name     string
	DistTags map[string]string
	// Versions by version string. Unpublished versions are absent, though
	// their publish time usually stays in Time.
	Versions map[string]*Manifest
	// Time maps each version to its publish time, plus "created" and
	// "modified". Entries that are not RFC 3339 timestamps are dropped
	// (see Unpublished). Full documents only: abbreviated ones have none.
	Time map[string]time.Time
	// Unpublished is time.unpublished, which the registry adds when every
	// version was unpublished (the document is then a tombstone without
	// versions).
	Unpublished *Unpublished
	// Maintainers are the people who may publish, as of now.
	Maintainers []Person
	// Modified is the abbreviated document's top-level "modified", or
	// time["modified"] for a full document.
	Modified time.Time
	// Abbreviated reports the response was the corgi format (by its
	// Content-Type; some mirrors answer a corgi request with full JSON).
	Abbreviated bool
	// Raw is the document exactly as received. Every Manifest.Raw is a
	// slice of it: neither may be modified.
	Raw []byte
}

// Unpublished is the tombstone entry of a fully unpublished package.
type Unpublished struct {
	Time     time.Time
	Versions []string
}

// Manifest is one version's entry in a packument: its package.json as
// published plus the fields the registry adds (dist, _npmUser, …).
type Manifest struct {
	Name        string
	Version     string
	Description string
	License     string
	Dist        Dist

	Scripts              map[string]string
	Dependencies         map[string]string
	OptionalDependencies map[string]string
	DevDependencies      map[string]string
	PeerDependencies     map[string]string
	// BundleDependencies is bundleDependencies (or bundledDependencies);
	// "true" means every dependency and is expanded to their names.
	BundleDependencies []string
	// Bin maps command names to paths; the string form of package.json's
	// bin is expanded as npm does (command = unscoped package name).
	Bin     map[string]string
	Engines map[string]string
	OS      []string
	CPU     []string

	// NpmUser is _npmUser: the account (or, with trusted publishing, the CI
	// identity) that published this version. Absent in abbreviated documents.
	NpmUser     *Person
	Maintainers []Person
	// Deprecated is the deprecation message; empty when not deprecated.
	Deprecated string
	// HasInstallScript is the registry's flag in abbreviated documents. Use
	// HasInstallScripts, which also reads full documents.
	HasInstallScript bool
	// Gypfile is set when the package has a binding.gyp, which makes npm run
	// "node-gyp rebuild" at install even without an install script.
	Gypfile     bool
	GitHead     string
	NpmVersion  string // _npmVersion
	NodeVersion string // _nodeVersion

	// Ambiguous is set when the version object has keys that the decoding
	// above conflates but JavaScript clients do not: two spellings of one
	// field that differ only in case ("Scripts" beside "scripts"), or, in
	// the registry-written dist and _npmUser objects, a field spelled only
	// in another case. The fields above may then hold the decoy's value
	// rather than what npm reads, so nothing in them can be trusted; the
	// policy blocks such a version. It names the first such pair, e.g.
	// `"Scripts" and "scripts"` or `"dist": "Integrity" and "integrity"`;
	// empty when the object is clean.
	Ambiguous string

	// Raw is this version's JSON object exactly as received (a slice of
	// Packument.Raw when it came from a packument): the proxy passes it
	// through untouched, and fields not modelled here are read from it.
	Raw json.RawMessage
}

// Dist is the registry-generated part of a version: where its tarball is
// and how to check it.
type Dist struct {
	Tarball   string
	Shasum    string // hex SHA-1 of the tarball, on every version
	Integrity string // SRI, "sha512-…", on versions published since 2017
	// FileCount and UnpackedSize describe the tarball's contents; 0 when
	// the registry did not record them (old versions).
	FileCount    int64
	UnpackedSize int64
	// Signatures are the registry's ECDSA signatures over
	// "<name>@<version>:<integrity>".
	Signatures []Signature
	// NpmSignature is the PGP signature npm used before 2023.
	NpmSignature string
	// Attestations is set when the version was published with provenance
	// (npm publish --provenance, or trusted publishing).
	Attestations *Attestations
}

// Signature is one entry of dist.signatures.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// Attestations points at the Sigstore bundles npm stores for a version.
type Attestations struct {
	URL string
	// PredicateType is provenance.predicateType, e.g.
	// "https://slsa.dev/provenance/v1".
	PredicateType string
}

// Person is an npm user as packuments record them: {name, email, url}, or
// the "Name <email> (url)" string old documents (and npm view) use.
type Person struct {
	Name  string
	Email string
	URL   string
	// TrustedPublisher is set on _npmUser when the version was published
	// through npm trusted publishing (OIDC from CI): {"id":"github",
	// "oidcConfigId":"oidc:…"}. Name is then the CI ("GitHub Actions").
	TrustedPublisher *TrustedPublisher
	// Approver is the person who approved a trusted publish, when the
	// registry records one.
	Approver *Person
}

// TrustedPublisher identifies the OIDC trust configuration that published.
type TrustedPublisher struct {
	ID           string // provider: "github", "gitlab", …
	OIDCConfigID string
}

func (p Person) String() string {
	s := p.Name
	if p.Email != "" {
		if s != "" {
			s += " "
		}
		s += "<" + p.Email + ">"
	}
	return s
}

// ParsePackument decodes a packument, full or abbreviated. data is kept as
// Packument.Raw (not copied), so the caller must not reuse it.
func ParsePackument(data []byte) (*Packument, error) {
	p := &Packument{Raw: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("packument: %w", err)
	}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return nil, fmt.Errorf("packument: %w", err)
		}
		switch key {
		case "name":
			var s looseString
			err = dec.Decode(&s)
			p.Name = string(s)
		case "dist-tags":
			var m stringMap
			err = dec.Decode(&m)
			p.DistTags = m
		case "maintainers":
			var l personList
			err = dec.Decode(&l)
			p.Maintainers = l
		case "modified":
			var t looseTime
			err = dec.Decode(&t)
			p.Modified = time.Time(t)
		case "time":
			err = p.decodeTime(dec)
		case "versions":
			err = p.decodeVersions(dec, data)
		default:
			err = dec.Decode(&skipValue{})
		}
		if err != nil {
			return nil, fmt.Errorf("packument %q: %s: %w", p.Name, key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("packument: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("packument: data after the document")
	}
	if p.Modified.IsZero() {
		p.Modified = p.Time["modified"]
	}
	return p, nil
}

func (p *Packument) decodeTime(dec *json.Decoder) error {
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	p.Time = make(map[string]time.Time, len(raw))
	p.Unpublished = nil
	for k, v := range raw {
		if k == "unpublished" { // never a version: only its object form means anything
			var u struct {
				Time     looseTime  `json:"time"`
				Versions stringList `json:"versions"`
			}
			if len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &u) == nil {
				p.Unpublished = &Unpublished{Time: time.Time(u.Time), Versions: u.Versions}
			}
			continue
		}
		var t looseTime
		if json.Unmarshal(v, &t) == nil && !time.Time(t).IsZero() {
			p.Time[k] = time.Time(t)
		}
	}
	return nil
}

// decodeVersions reads the versions object one entry at a time, so that each
// Manifest.Raw can be a slice of data rather than a copy: a 50 MB packument
// is then held once, not twice.
func (p *Packument) decodeVersions(dec *json.Decoder, data []byte) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "versions": null
		p.Versions = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object, got %v", tok)
	}
	p.Versions = make(map[string]*Manifest)
	for dec.More() {
		v, err := objectKey(dec)
		if err != nil {
			return err
		}
		start := dec.InputOffset()
		switch firstByte(data[start:]) {
		case '{':
		case 'n': // null: nothing to install, nothing to keep
			if err := dec.Decode(&skipValue{}); err != nil {
				return err
			}
			continue
		default:
			return fmt.Errorf("version %q: not a JSON object", v)
		}
		var w manifestWire
		if err := dec.Decode(&w); err != nil {
			return fmt.Errorf("version %q: %w", v, err)
		}
		raw := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n:")
		m := w.manifest()
		m.Raw = raw[:len(raw):len(raw)]
		m.Ambiguous = ambiguousKeys(m.Raw)
		if m.Version == "" {
			m.Version = v
		}
		p.Versions[v] = m
	}
	return expectDelim(dec, '}')
}

// ParseManifest decodes one version object (as served at /<name>/<version>).
// data is kept as Manifest.Raw (not copied).
func ParseManifest(data []byte) (*Manifest, error) {
	if firstByte(data) != '{' {
		return nil, errors.New("manifest: not a JSON object")
	}
	var w manifestWire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := w.manifest()
	m.Raw = data
	m.Ambiguous = ambiguousKeys(data)
	return m, nil
}

// manifestWire is the version object with a tolerant type for every field.
type manifestWire struct {
	Name                 looseString `json:"name"`
	Version              looseString `json:"version"`
	Description          looseString `json:"description"`
	License              license     `json:"license"`
	Dist                 distWire    `json:"dist"`
	Scripts              stringMap   `json:"scripts"`
	Dependencies         stringMap   `json:"dependencies"`
	OptionalDependencies stringMap   `json:"optionalDependencies"`
	DevDependencies      stringMap   `json:"devDependencies"`
	PeerDependencies     stringMap   `json:"peerDependencies"`
	BundleDependencies   bundleDeps  `json:"bundleDependencies"`
	BundledDependencies  bundleDeps  `json:"bundledDependencies"`
	Bin                  bin         `json:"bin"`
	Engines              stringMap   `json:"engines"`
	OS                   stringList  `json:"os"`
	CPU                  stringList  `json:"cpu"`
	NpmUser              *Person     `json:"_npmUser"`
	Maintainers          personList  `json:"maintainers"`
	Deprecated           deprecated  `json:"deprecated"`
	HasInstallScript     looseBool   `json:"hasInstallScript"`
	Gypfile              looseBool   `json:"gypfile"`
	GitHead              looseString `json:"gitHead"`
	NpmVersion           looseString `json:"_npmVersion"`
	NodeVersion          looseString `json:"_nodeVersion"`
}

func (w *manifestWire) manifest() *Manifest {
	m := &Manifest{
		Name:                 string(w.Name),
		Version:              string(w.Version),
		Description:          string(w.Description),
		License:              string(w.License),
		Dist:                 w.Dist.dist(),
		Scripts:              w.Scripts,
		Dependencies:         w.Dependencies,
		OptionalDependencies: w.OptionalDependencies,
		DevDependencies:      w.DevDependencies,
		PeerDependencies:     w.PeerDependencies,
		Engines:              w.Engines,
		OS:                   w.OS,
		CPU:                  w.CPU,
		NpmUser:              w.NpmUser,
		Maintainers:          w.Maintainers,
		Deprecated:           string(w.Deprecated),
		HasInstallScript:     bool(w.HasInstallScript),
		Gypfile:              bool(w.Gypfile),
		GitHead:              string(w.GitHead),
		NpmVersion:           string(w.NpmVersion),
		NodeVersion:          string(w.NodeVersion),
	}
	if m.NpmUser != nil && *m.NpmUser == (Person{}) {
		m.NpmUser = nil
	}
	bd := w.BundleDependencies
	if !bd.set {
		bd = w.BundledDependencies
	}
	if bd.all {
		for name := range m.Dependencies {
			m.BundleDependencies = append(m.BundleDependencies, name)
		}
	} else {
		m.BundleDependencies = bd.names
	}
	m.Bin = w.Bin.expand(m.Name)
	return m
}

type distWire struct {
	Tarball      looseString       `json:"tarball"`
	Shasum       looseString       `json:"shasum"`
	Integrity    looseString       `json:"integrity"`
	FileCount    looseInt          `json:"fileCount"`
	UnpackedSize looseInt          `json:"unpackedSize"`
	Signatures   signatures        `json:"signatures"`
	NpmSignature looseString       `json:"npm-signature"`
	Attestations *attestationsWire `json:"attestations"`
}

func (d *distWire) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil // dist of another type: leave it empty, verification will refuse it
	}
	type plain distWire
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return nil
	}
	*d = distWire(p)
	return nil
}

func (d distWire) dist() Dist {
	out := Dist{
		Tarball:      string(d.Tarball),
		Shasum:       string(d.Shasum),
		Integrity:    string(d.Integrity),
		FileCount:    int64(d.FileCount),
		UnpackedSize: int64(d.UnpackedSize),
		Signatures:   d.Signatures,
		NpmSignature: string(d.NpmSignature),
	}
	if a := d.Attestations; a != nil && a.set {
		out.Attestations = &Attestations{URL: string(a.URL), PredicateType: string(a.Provenance.PredicateType)}
	}
	return out
}
