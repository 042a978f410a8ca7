package registry

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Conditional asks for a packument only if it changed since a previous
// response, whose validators the caller kept.
type Conditional struct {
	ETag         string // sent as If-None-Match
	LastModified string // sent as If-Modified-Since
	// Abbreviated asks for the corgi format instead of the full document.
	Abbreviated bool
}

// PackumentResult is the answer to a conditional packument request.
type PackumentResult struct {
	// Packument is nil when NotModified.
	Packument   *Packument
	NotModified bool
	// ETag and LastModified are the validators to send next time (on a 304,
	// the server's if it repeated them, else the ones sent).
	ETag         string
	LastModified string
}

// Packument fetches the full document of name.
func (c *Client) Packument(ctx context.Context, name string) (*Packument, error) {
	r, err := c.PackumentIfChanged(ctx, name, Conditional{})
	if err != nil {
		return nil, err
	}
	return r.Packument, nil
}

// AbbreviatedPackument fetches the corgi document of name, which is what
// installs use: smaller, but without time, _npmUser or scripts. A registry
// that ignores the Accept header answers with the full document, and
// Packument.Abbreviated then says so.
func (c *Client) AbbreviatedPackument(ctx context.Context, name string) (*Packument, error) {
	r, err := c.PackumentIfChanged(ctx, name, Conditional{Abbreviated: true})
	if err != nil {
		return nil, err
	}
	return r.Packument, nil
}

// PackumentIfChanged fetches name's packument unless the registry says it
// has not changed since the response cond describes (HTTP 304).
func (c *Client) PackumentIfChanged(ctx context.Context, name string, cond Conditional) (*PackumentResult, error) {
	if err := npm.ValidateName(name); err != nil {
		return nil, err
	}
	u := c.packumentURL(name)
	hdr := http.Header{}
	if cond.Abbreviated {
		hdr.Set("Accept", acceptAbbreviated)
	} else {
		hdr.Set("Accept", MediaTypeJSON)
	}
	if cond.ETag != "" {
		hdr.Set("If-None-Match", cond.ETag)
	}
	if cond.LastModified != "" {
		hdr.Set("If-Modified-Since", cond.LastModified)
	}
	var p *Packument
	resp, err := c.get(ctx, u, hdr, func(resp *http.Response) error {
		body, err := readBody(resp, u, c.maxPackument, nil)
		if err != nil {
			return err
		}
		p, err = ParsePackument(body)
		if err != nil {
			return fmt.Errorf("GET %s: %w", redact(u), err)
		}
		p.Abbreviated = mediaType(resp.Header) == MediaTypeAbbreviated
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("packument %s: %w", name, err)
	}
	res := &PackumentResult{ETag: resp.header.Get("ETag"), LastModified: resp.header.Get("Last-Modified")}
	if resp.status == http.StatusNotModified {
		if cond.ETag == "" && cond.LastModified == "" {
			return nil, fmt.Errorf("packument %s: HTTP 304 to an unconditional request", name)
		}
		res.NotModified = true
		if res.ETag == "" {
			res.ETag = cond.ETag
		}
		if res.LastModified == "" {
			res.LastModified = cond.LastModified
		}
		return res, nil
	}
	// A registry that answers for another package (a misrouted proxy, a
	// cache keyed wrongly) must not have its document taken for this one.
	if p.Name == "" {
		p.Name = name
	} else if p.Name != name {
		return nil, fmt.Errorf("packument %s: registry returned the document of %q", name, p.Name)
	}
	res.Packument = p
	return res, nil
}

// Tarball downloads tarballURL and verifies it against integrity (an SRI
// string such as "sha512-…", or a hex SHA-1 shasum) while reading. It
// returns the bytes only if they match; a mismatch is an *IntegrityError
// (errors.Is ErrIntegrity), and no bytes.
func (c *Client) Tarball(ctx context.Context, tarballURL, integrity string) ([]byte, error) {
	if integrity == "" {
		return nil, fmt.Errorf("tarball %s: %w", redact(tarballURL), ErrNoIntegrity)
	}
	want, err := npm.ParseIntegrity(integrity)
	if err != nil {
		return nil, fmt.Errorf("tarball %s: %w", redact(tarballURL), err)
	}
	u, err := c.tarballURL(tarballURL)
	if err != nil {
		return nil, err
	}
	data, got, err := c.download(ctx, u, want.Algorithm)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(got.Digest, want.Digest) != 1 {
		return nil, &IntegrityError{URL: u, Want: want.String(), Got: got.String()}
	}
	return data, nil
}

// ManifestTarball downloads m's tarball and verifies it against
// dist.integrity, or dist.shasum for versions published before npm recorded
// integrity.
func (c *Client) ManifestTarball(ctx context.Context, m *Manifest) ([]byte, error) {
	integrity := m.Dist.Integrity
	if integrity == "" {
		integrity = m.Dist.Shasum
	}
	if integrity == "" {
		return nil, fmt.Errorf("%s@%s: %w", m.Name, m.Version, ErrNoIntegrity)
	}
	data, err := c.Tarball(ctx, m.Dist.Tarball, integrity)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", m.Name, m.Version, err)
	}
	return data, nil
}

// download fetches u (size-capped) and hashes it with alg while reading.
func (c *Client) download(ctx context.Context, u, alg string) ([]byte, npm.Integrity, error) {
	var data []byte
	var sum []byte
	_, err := c.get(ctx, u, http.Header{"Accept": {"application/octet-stream, */*"}}, func(resp *http.Response) error {
		h := newHash(alg)
		body, err := readBody(resp, u, c.maxTarball, h)
		if err != nil {
			return err
		}
		data, sum = body, h.Sum(nil)
		return nil
	})
	if err != nil {
		return nil, npm.Integrity{}, fmt.Errorf("tarball: %w", err)
	}
	if data == nil { // 304 to a request that had no validators
		return nil, npm.Integrity{}, fmt.Errorf("tarball %s: unexpected HTTP 304", redact(u))
	}
	return data, npm.Integrity{Algorithm: alg, Digest: sum}, nil
}

func newHash(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	}
	return sha512.New()
}

// Release is one version's tarball as FetchVersion found it.
type Release struct {
	Name, Version string
	Tarball       []byte
	TarballURL    string
	// Integrity is the SHA-512 SRI of Tarball as received, whether or not
	// it could be verified: record it, compare it with lockfiles.
	Integrity string
	// Packument is the package's document, nil when the registry has none
	// (the whole package was removed). Manifest is the version's entry, nil
	// when Unlisted.
	Packument *Packument
	Manifest  *Manifest
	// Verified: Tarball matched the integrity the packument lists for it.
	Verified bool
	// Unlisted: the packument does not list the version (it was
	// unpublished, or removed as malware), so the tarball came from its
	// conventional URL and nothing vouches for it: Verified is false.
	Unlisted bool
}

// FetchVersion downloads name@version, where version is an exact version or
// a dist-tag. A listed version's tarball is verified against its
// dist.integrity. When the registry no longer lists the version — which is
// what happens to malicious releases once they are found, and exactly when
// a responder needs to look at them — FetchVersion tries the tarball's
// conventional URL (<registry>/<name>/-/<basename>-<version>.tgz) and returns
// it with Unlisted set and Verified false: the bytes are whatever that URL
// served, with only their own digest to identify them.
func (c *Client) FetchVersion(ctx context.Context, name, version string) (*Release, error) {
	p, err := c.Packument(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	rel := &Release{Name: name, Version: version, Packument: p}
	if p != nil {
		if v, ok := p.Resolve(version); ok {
			rel.Version = v
			rel.Manifest = p.Versions[v]
		}
	}
	if m := rel.Manifest; m != nil {
		u, err := c.tarballURL(m.Dist.Tarball)
		if err != nil {
			return nil, fmt.Errorf("%s@%s: %w", name, rel.Version, err)
		}
		rel.TarballURL = u
		data, err := c.ManifestTarball(ctx, m)
		if err != nil {
			return nil, err
		}
		rel.Tarball, rel.Verified = data, true
		rel.Integrity = sha512SRI(data)
		return rel, nil
	}

	// Not listed. Only an exact version names a file; validating it also
	// keeps the URL from being steered by the argument. (A dist-tag that
	// points at an unlisted version was resolved above.)
	version = rel.Version
	if _, perr := npm.ParseVersion(version); perr != nil {
		if p == nil {
			return nil, fmt.Errorf("%s@%s: %w", name, version, err)
		}
		return nil, fmt.Errorf("%s@%s: %w: no such version or dist-tag", name, version, ErrNotFound)
	}
	rel.Unlisted = true
	rel.TarballURL = c.conventionalTarballURL(name, version)
	data, got, derr := c.download(ctx, rel.TarballURL, "sha512")
	if derr != nil {
		if errors.Is(derr, ErrNotFound) {
			return nil, fmt.Errorf("%s@%s: not in the packument, and nothing at %s: %w", name, version, redact(rel.TarballURL), derr)
		}
		return nil, fmt.Errorf("%s@%s (unlisted): %w", name, version, derr)
	}
	rel.Tarball, rel.Integrity = data, got.String()
	return rel, nil
}

func sha512SRI(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}
