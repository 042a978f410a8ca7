package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/proxy/cache"
	"github.com/vigil-sec/vigil/internal/store"
)

// A tarball is never streamed to a client while it is still arriving: the
// proxy writes the upstream's bytes into the cache, and the cache commits
// them only if they hash to the version's dist.integrity. The client is
// served from the committed file. A tarball that fails verification is
// answered with 502 and no byte of it leaves the proxy; one cut short is
// the same. The cost is latency to the first byte (the whole download,
// on loopback about 1 ms per MB; docs/proxy.md), paid once per tarball:
// later requests are served from the cache with sendfile.

// errTarballIntegrity wraps cache.ErrIntegrity for the response mapping.
var errTarballIntegrity = errors.New("the tarball's bytes do not match dist.integrity")

// errNotCacheable: a verified tarball larger than the whole cache (or
// evicted at once) cannot be served, as bytes are only served from it.
var errNotCacheable = errors.New("the verified tarball could not be kept in the cache (larger than the cache's size?)")

// serveTarball answers GET/HEAD /<name>/-/<file>.tgz.
func (s *Server) serveTarball(w *statusRecorder, r *http.Request, rt route) {
	up := s.ups.forName(rt.name)
	auth := up.clientAuth(r.Header.Get("Authorization"))
	rec, peer := s.newRecord(r, rt.name, rt.version)
	recorded := false
	defer func() {
		if !recorded {
			s.record(r.Context(), rec, w.statusOr200())
		}
	}()
	// A refusal is recorded before it is sent: one written on the hijacked
	// connection (refuse) reaches the client before this handler returns,
	// and the record must not trail it.
	refused := func(status int, msg string) {
		recorded = true
		s.record(r.Context(), rec, refusalStatus(r, status))
		refuse(w, r, status, msg)
	}

	e, _, err := s.evaluationFor(r.Context(), up, rt.name, auth)
	if err != nil {
		rec.Reason = err.Error()
		s.writeUpstreamFailure(w, rt.name, up, err)
		return
	}
	version, ok := e.versionForFile(rt.version, rt.file)
	if !ok {
		rec.Reason = "not in the registry's document"
		// A version the registry no longer lists (unpublished, or
		// removed as malware) has nothing to verify its bytes against.
		writeError(w, http.StatusNotFound, fmt.Sprintf("Not found: %s has no listed version with the tarball %s", rt.name, rt.file))
		return
	}
	rec.Version = version
	// Analysis verdicts: decide with the version's verdict, analysing
	// the tarball first when the policy asks (analysis.go).
	var handled bool
	if e, handled = s.withVerdict(w, r, rec, up, rt.name, version, auth, e, refused); handled {
		return
	}
	d, ok := e.Decisions[version]
	if !ok {
		d = policy.Decision{Name: rt.name, Version: version, Action: policy.Allow}
	}
	rec.Action = d.Action
	if d.Action != policy.Allow {
		rec.Reason = summary(d)
	}
	switch {
	case d.DryRun && d.Action != policy.Allow:
		s.log.Warn("dry run: policy would "+string(d.Action)+" this tarball; serving it", "package", rt.name, "version", version, "reason", rec.Reason, "client", rec.Client, "peer", peer)
		w.Header().Set("X-Vigil-Warning", headerSafe("dry run: would "+string(d.Action)+" "+rt.name+"@"+version+": "+rec.Reason, 1024))
		rec.Action = policy.Allow
	case d.Action == policy.Block:
		s.countDecision(d, "tarball")
		msg := "vigil blocked " + rt.name + "@" + version + ": " + rec.Reason
		s.log.Warn("blocked a tarball", "package", rt.name, "version", version, "reason", rec.Reason, "client", rec.Client, "peer", peer)
		refused(http.StatusForbidden, msg)
		return
	case d.Action == policy.Warn:
		s.countDecision(d, "tarball")
		msg := headerSafe("vigil warns about "+rt.name+"@"+version+": "+rec.Reason, 1024)
		s.log.Warn("served a tarball with a warning", "package", rt.name, "version", version, "reason", rec.Reason, "client", rec.Client, "peer", peer)
		w.Header().Set("X-Vigil-Warning", msg)
		w.Header().Set("npm-notice", msg)
	}
	cacheControl := "public, max-age=31536000, immutable"
	if d.Action != policy.Allow {
		// npm prints npm-notice only for responses it does not store.
		cacheControl = "no-store"
	}
	dist := e.dists[version]
	if dist.integrity == "" {
		rec.Reason = "no integrity to verify against"
		writeError(w, http.StatusBadGateway, "vigil: "+rt.name+"@"+version+" has no dist.integrity or dist.shasum to verify its tarball against (refused)")
		return
	}
	f, _, err := s.tarball(r.Context(), up, rt.name+"@"+version, dist, auth)
	if err != nil {
		rec.Reason = err.Error()
		switch {
		case errors.Is(err, errTarballIntegrity):
			refused(http.StatusBadGateway, "vigil: refused "+rt.name+"@"+version+": the upstream's tarball does not match its dist.integrity "+dist.integrity)
		case errors.Is(err, errNotCacheable):
			writeError(w, http.StatusBadGateway, "vigil: "+rt.name+"@"+version+": "+err.Error())
		default:
			s.writeUpstreamFailure(w, rt.name+"@"+version+" tarball", up, err)
		}
		return
	}
	defer f.Close()
	rec.Integrity = dist.integrity
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+dist.integrity+`"`)
	h.Set("Cache-Control", cacheControl)
	// ServeContent answers HEAD, Range and If-None-Match.
	http.ServeContent(w, r, "", time.Time{}, f)
}

// tarball returns a verified tarball from the cache, downloading it first
// when missing (identical concurrent downloads coalesced).
func (s *Server) tarball(ctx context.Context, up *upstream, what string, dist distInfo, auth string) (io.ReadSeekCloser, int64, error) {
	f, size, err := s.cache.OpenTarball(dist.integrity)
	if err == nil {
		s.metrics.cacheLookups.inc("tarball", "hit")
		return f, size, nil
	}
	if !errors.Is(err, cache.ErrMiss) {
		return nil, 0, fmt.Errorf("opening the cached tarball of %s: %w", what, err)
	}
	s.metrics.cacheLookups.inc("tarball", "miss")
	executed := false
	_, err, shared := s.flight.Do("tarball|"+dist.integrity, func() (any, error) {
		executed = true
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.tarballTimeout)
		defer cancel()
		return nil, s.download(fctx, up, what, dist, auth)
	})
	if shared && !executed {
		s.metrics.coalesced.inc("tarball")
	}
	if err != nil {
		return nil, 0, err
	}
	f, size, err = s.cache.OpenTarball(dist.integrity)
	if errors.Is(err, cache.ErrMiss) {
		return nil, 0, errNotCacheable
	}
	if err != nil {
		return nil, 0, fmt.Errorf("opening the cached tarball of %s: %w", what, err)
	}
	return f, size, nil
}

// download fetches a tarball into the cache, which keeps it only if it
// matches dist.integrity.
func (s *Server) download(ctx context.Context, up *upstream, what string, dist distInfo, auth string) error {
	target, err := up.resolveTarball(dist.tarball)
	if err != nil {
		return &upstreamError{URL: dist.tarball, Err: err}
	}
	resp, err := s.doUpstream(ctx, up, "tarball", target, auth, http.Header{"Accept": {"application/octet-stream"}})
	if err != nil {
		s.metrics.upstreamErrors.inc("tarball", errorReason(err))
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		uerr := statusError(target.String(), resp)
		s.metrics.upstreamErrors.inc("tarball", errorReason(uerr))
		return uerr
	}
	if resp.ContentLength > s.maxTarball {
		return &upstreamError{URL: target.String(), Err: fmt.Errorf("tarball of %d bytes exceeds the limit of %d", resp.ContentLength, s.maxTarball)}
	}
	tw, err := s.cache.CreateTarball(dist.integrity)
	if err != nil {
		return fmt.Errorf("caching the tarball of %s: %w", what, err)
	}
	defer tw.Abort()
	n, err := io.Copy(tw, io.LimitReader(resp.Body, s.maxTarball+1))
	if err != nil {
		uerr := &upstreamError{URL: target.String(), Err: fmt.Errorf("reading the tarball after %d bytes: %w", n, err)}
		s.metrics.upstreamErrors.inc("tarball", errorReason(uerr))
		return uerr
	}
	if n > s.maxTarball {
		return &upstreamError{URL: target.String(), Err: fmt.Errorf("tarball exceeds the limit of %d bytes", s.maxTarball)}
	}
	if err := tw.Commit(); err != nil {
		if errors.Is(err, cache.ErrIntegrity) {
			s.metrics.integrityFailures.inc()
			s.log.Error("tarball integrity mismatch: refused", "package", what, "url", redactURL(target.String()), "want", dist.integrity, "err", err)
			return fmt.Errorf("%s: %w (%v)", what, errTarballIntegrity, err)
		}
		return fmt.Errorf("caching the tarball of %s: %w", what, err)
	}
	return nil
}

// countDecision counts a held-back or warned version by rule.
func (s *Server) countDecision(d policy.Decision, route string) {
	for _, r := range d.Reasons {
		if r.Action == d.Action {
			s.metrics.decisions.inc(string(d.Action), string(r.Rule), route)
		}
	}
}

// newRecord starts the download record of a tarball request, and returns
// the connection's peer: the client, or the trusted proxy that forwarded
// the request (the record keeps only the client; the peer is logged).
func (s *Server) newRecord(r *http.Request, name, version string) (*store.Download, string) {
	ca := s.trusted.resolve(r)
	if ca.Note != "" {
		s.log.Debug("forwarding headers from a trusted proxy not used; recording the proxy's address", "package", name, "peer", ca.Peer, "why", ca.Note)
	} else if ca.Source != "peer" {
		s.log.Debug("tarball request forwarded by a trusted proxy", "package", name, "client", ca.Client, "peer", ca.Peer, "from", ca.Source)
	}
	return &store.Download{
		Time:       s.now().UTC(),
		Name:       name,
		Version:    version,
		Client:     ca.Client,
		UserAgent:  r.Header.Get("User-Agent"),
		NpmCommand: r.Header.Get("npm-command"),
		NpmSession: r.Header.Get("npm-session"),
		NpmScope:   r.Header.Get("npm-scope"),
		Action:     policy.Allow,
	}, ca.Peer
}

// record hands a finished download to the recorder. A failure is logged
// and counted: the answer was already sent.
func (s *Server) record(ctx context.Context, d *store.Download, status int) {
	if s.recorder == nil {
		return
	}
	d.Status = status
	if status != http.StatusOK && status != http.StatusPartialContent && status != http.StatusNotModified {
		d.Integrity = ""
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.recorder.RecordDownload(rctx, *d); err != nil {
		s.metrics.recordErrors.inc()
		s.log.Error("recording a download failed", "package", d.Name, "version", d.Version, "err", err)
	}
}
