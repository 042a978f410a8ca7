package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/proxy/cache"
	"github.com/vigil-sec/vigil/internal/registry"
)

// A packument is fetched from the upstream in its full form only: the
// cooldown needs the time map, which the abbreviated form lacks, and the
// abbreviated form is derived from it (render.go). One upstream request and
// one cache entry then serve both formats.

// docMeta is what the proxy remembers in memory about a cached document,
// so that a fresh, already rendered packument is served without touching
// the disk.
type docMeta struct {
	id        string // identity of the body: upstream ETag, else its SHA-256
	fetchedAt time.Time
	// retryAt: after an upstream failure the cached copy is served until
	// then without asking again (a down upstream is not hammered).
	retryAt time.Time
}

// docResult is a document ready to evaluate.
type docResult struct {
	key string
	// name is the package the route asked for: authoritative over the
	// body's "name", which may be absent (and must then not leave the
	// document nameless) or, in a cached body, differ (refused).
	name  string
	id    string
	body  []byte
	pk    *registry.Packument // parsed when it was fetched just now; nil when read from the cache
	stale bool                // served from the cache because the upstream failed
}

// packument returns the parsed document, named after the route: a cached
// body is parsed again (after a reload, a quarantine change, an
// evaluation's expiry, a revalidation or a restart) and gets the route's
// name exactly as a fresh fetch does. A body naming another package is
// refused.
func (d *docResult) packument() (*registry.Packument, error) {
	pk := d.pk
	if pk == nil {
		var err error
		if pk, err = registry.ParsePackument(d.body); err != nil {
			return nil, fmt.Errorf("%w: %v", errInvalidDocument, err)
		}
	}
	if err := checkDocumentName(pk, d.name); err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalidDocument, err)
	}
	return pk, nil
}

// checkDocumentName names a nameless document after the route and refuses
// one whose "name" is another package's.
func checkDocumentName(pk *registry.Packument, name string) error {
	if pk.Name == "" {
		pk.Name = name
	}
	if pk.Name != name {
		return fmt.Errorf("the upstream returned the document of %q for %q", pk.Name, name)
	}
	return nil
}

// docMetas is the in-memory index of documents, bounded in count.
type docMetas struct {
	mu  sync.Mutex
	max int
	m   map[string]docMeta
}

func (d *docMetas) get(key string) (docMeta, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.m[key]
	return m, ok
}

func (d *docMetas) set(key string, m docMeta) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.m[key]; !ok && len(d.m) >= d.max {
		// Forget everything rather than track recency for a map of a few
		// hundred bytes per entry: the disk cache still has the documents.
		clear(d.m)
	}
	d.m[key] = m
}

func (d *docMetas) delete(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, key)
}

// docKey names a document in the cache. A document fetched with the
// client's own credentials is keyed by them too, so one client's private
// packument is never served to another; with a configured upstream token,
// an upstream that is not sent client credentials (forward_auth false, the
// default upstream's default) or no credentials, every client shares one
// entry.
func docKey(up *upstream, name, clientAuth string) string {
	k := up.base.String() + "|" + name + "|full"
	if a := up.clientAuth(clientAuth); a != "" {
		sum := sha256.Sum256([]byte(a))
		k += "|auth:" + hex.EncodeToString(sum[:8])
	}
	return k
}

// fresh reports whether a document can be served without asking the
// upstream.
func (s *Server) fresh(m docMeta, now time.Time) bool {
	return now.Sub(m.fetchedAt) < s.ttl || now.Before(m.retryAt)
}

// document returns name's full packument: from the cache while fresh,
// else revalidated or fetched upstream (identical concurrent fetches
// coalesced), else — when the upstream fails — the cached copy
// (stale-if-error). With nothing cached and the upstream failing, the
// error is returned: the caller fails closed.
func (s *Server) document(ctx context.Context, up *upstream, name, clientAuth string) (*docResult, error) {
	clientAuth = up.clientAuth(clientAuth)
	key := docKey(up, name, clientAuth)
	now := s.now()
	if m, ok := s.metas.get(key); ok && s.fresh(m, now) {
		d, err := s.cache.Document(key)
		if err == nil {
			s.metrics.cacheLookups.inc("packument", "hit")
			return &docResult{key: key, name: name, id: m.id, body: d.Body}, nil
		}
		if !errors.Is(err, cache.ErrMiss) {
			s.log.Warn("reading a cached packument failed; fetching it again", "key", key, "err", err)
		}
	}
	executed := false
	v, err, shared := s.flight.Do("doc|"+key, func() (any, error) {
		executed = true
		// The fetch serves every waiting client, so it must not end when
		// the first one hangs up.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.upstreamTimeout)
		defer cancel()
		if clientAuth != "" {
			// Keyed by the credential: neither cached for nor coalesced
			// with other clients, so bounded per upstream instead.
			select {
			case up.credFetches <- struct{}{}:
				defer func() { <-up.credFetches }()
			case <-fctx.Done():
				return nil, &upstreamError{URL: up.packumentURL(name), Err: fmt.Errorf("waiting for a free credentialed fetch: %w", fctx.Err())}
			}
		}
		return s.revalidate(fctx, up, name, key, clientAuth)
	})
	if shared && !executed {
		s.metrics.coalesced.inc("packument")
	}
	if err != nil {
		return nil, err
	}
	return v.(*docResult), nil
}

// revalidate asks the upstream for name's document, conditionally when a
// copy is cached.
func (s *Server) revalidate(ctx context.Context, up *upstream, name, key, clientAuth string) (*docResult, error) {
	cached, err := s.cache.Document(key)
	if err != nil {
		if !errors.Is(err, cache.ErrMiss) {
			s.log.Warn("reading a cached packument failed", "key", key, "err", err)
		}
		cached = nil
	}
	target, err := url.Parse(up.packumentURL(name))
	if err != nil {
		return nil, fmt.Errorf("packument URL for %s: %w", name, err)
	}
	hdr := http.Header{"Accept": {registry.MediaTypeJSON}}
	if cached != nil {
		if cached.ETag != "" {
			hdr.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			hdr.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := s.doUpstream(ctx, up, "packument", target, clientAuth, hdr)
	if err != nil {
		s.metrics.upstreamErrors.inc("packument", errorReason(err))
		return s.staleOr(key, name, cached, err)
	}
	defer resp.Body.Close()
	now := s.now()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		if err := s.cache.Touch(key, now); err != nil {
			s.log.Warn("recording a packument revalidation failed", "key", key, "err", err)
		}
		id := documentID(cached.ETag, cached.Body)
		s.metas.set(key, docMeta{id: id, fetchedAt: now})
		s.metrics.cacheLookups.inc("packument", "revalidated")
		return &docResult{key: key, name: name, id: id, body: cached.Body}, nil
	case resp.StatusCode == http.StatusOK:
		body, err := readCapped(resp.Body, s.maxPackument)
		if err != nil {
			uerr := &upstreamError{URL: target.String(), Err: err}
			s.metrics.upstreamErrors.inc("packument", errorReason(uerr))
			return s.staleOr(key, name, cached, uerr)
		}
		pk, err := registry.ParsePackument(body)
		if err == nil {
			err = checkDocumentName(pk, name)
		}
		if err != nil {
			s.metrics.upstreamErrors.inc("packument", "invalid")
			return nil, &invalidDocumentError{URL: target.String(), Err: err}
		}
		etag := resp.Header.Get("ETag")
		d := &cache.Document{Body: body, ContentType: resp.Header.Get("Content-Type"), ETag: etag,
			LastModified: resp.Header.Get("Last-Modified"), FetchedAt: now}
		if err := s.cache.PutDocument(key, d); err != nil {
			// Serving goes on from memory; only the next request pays.
			s.log.Warn("caching a packument failed", "key", key, "err", err)
		}
		id := documentID(etag, body)
		s.metas.set(key, docMeta{id: id, fetchedAt: now})
		s.metrics.cacheLookups.inc("packument", "miss")
		return &docResult{key: key, name: name, id: id, body: body, pk: pk}, nil
	}
	uerr := statusError(target.String(), resp)
	s.metrics.upstreamErrors.inc("packument", errorReason(uerr))
	if uerr.notFound() {
		// The package is gone upstream: a cached copy must not outlive it.
		s.forgetDocument(key)
		return nil, uerr
	}
	if uerr.authFailure() {
		return nil, uerr
	}
	return s.staleOr(key, name, cached, uerr)
}

// forgetDocument drops a cached document, from memory and disk.
func (s *Server) forgetDocument(key string) {
	s.metas.delete(key)
	if err := s.cache.DeleteDocument(key); err != nil && !errors.Is(err, cache.ErrMiss) {
		s.log.Warn("dropping a cached packument failed", "key", key, "err", err)
	}
}

// errInvalidDocument marks an upstream answer that is not a packument.
var errInvalidDocument = errors.New("not a valid packument")

// invalidDocumentError is an upstream 200 whose body is not a packument
// the proxy can read, or is another package's. It is never served, not
// even with fail_open: its tarball URLs point at the upstream, so a client
// would fetch them past the policy and the integrity check.
type invalidDocumentError struct {
	URL string
	Err error
}

func (e *invalidDocumentError) Error() string {
	return fmt.Sprintf("upstream %s: %v: %v", redactURL(e.URL), errInvalidDocument, e.Err)
}

func (e *invalidDocumentError) Is(target error) bool { return target == errInvalidDocument }

// staleOr serves the cached copy when the upstream failed, or returns the
// failure when nothing is cached.
func (s *Server) staleOr(key, name string, cached *cache.Document, err error) (*docResult, error) {
	if cached == nil {
		return nil, err
	}
	now := s.now()
	id := documentID(cached.ETag, cached.Body)
	s.metas.set(key, docMeta{id: id, fetchedAt: cached.FetchedAt, retryAt: now.Add(s.staleRetry)})
	s.metrics.staleServed.inc()
	s.metrics.cacheLookups.inc("packument", "stale")
	s.log.Warn("upstream failed; serving the cached packument", "key", key, "age", now.Sub(cached.FetchedAt).Round(time.Second), "err", err)
	return &docResult{key: key, name: name, id: id, body: cached.Body, stale: true}, nil
}

// documentID identifies a document body: its ETag when the upstream sent
// one, else its SHA-256.
func documentID(etag string, body []byte) string {
	if etag != "" {
		return "etag:" + etag
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// statusError reads a bounded snippet of a failed response.
func statusError(u string, resp *http.Response) *upstreamError {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return &upstreamError{URL: u, Status: resp.StatusCode, Body: snippet, Header: resp.Header.Clone()}
}

// readCapped reads r to the end, refusing more than limit bytes.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body after %d bytes: %w", len(b), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return b, nil
}

// errorReason is the metrics label for an upstream failure.
func errorReason(err error) string {
	var ue *upstreamError
	if errors.As(err, &ue) && ue.Status != 0 {
		return fmt.Sprint(ue.Status)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	}
	return "network"
}
