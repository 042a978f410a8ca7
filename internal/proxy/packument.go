package proxy

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/vigil-sec/vigil/internal/registry"
)

// servePackument answers GET/HEAD /<name>: the filtered document, full or
// abbreviated by the Accept header.
func (s *Server) servePackument(w http.ResponseWriter, r *http.Request, rt route) {
	v := variantFor(r.Header.Get("Accept"))
	up := s.ups.forName(rt.name)
	auth := up.clientAuth(r.Header.Get("Authorization"))

	// The fast path: a fresh document already filtered under the policy
	// in force is served from memory, without touching the disk.
	key := docKey(up, rt.name, auth)
	now := s.now()
	if m, ok := s.metas.get(key); ok && s.fresh(m, now) {
		if rr, ok := s.renders.get(renderKey(key, m.id, s.policy.Load().gen, s.epochs.of(rt.name), v)); ok && rr.valid(now) {
			s.metrics.cacheLookups.inc("rendered", "hit")
			s.writeRendered(w, r, rr, false)
			return
		}
	}
	s.metrics.cacheLookups.inc("rendered", "miss")
	doc, err := s.document(r.Context(), up, rt.name, auth)
	if err != nil {
		// Even with fail_open a document the proxy cannot read (or another
		// package's) is never served raw: its tarball URLs point at the
		// upstream, past the policy and the integrity check.
		s.writeUpstreamFailure(w, rt.name, up, err)
		return
	}
	e, err := s.evaluate(doc)
	if errors.Is(err, errInvalidDocument) {
		s.writeUpstreamFailure(w, rt.name, up, err)
		return
	}
	if err == nil {
		// Pre-analysis of dist-tag targets (analysis.go); may hold the
		// response a bounded while for a young one.
		e = s.withTagVerdicts(r.Context(), up, doc, e, auth)
		var rr *rendered
		if rr, err = s.render(doc, e, v); err == nil {
			s.writeRendered(w, r, rr, doc.stale)
			return
		}
	}
	s.log.Error("filtering a packument failed", "name", rt.name, "err", err)
	writeError(w, http.StatusBadGateway, "vigil: could not filter the document of "+rt.name+" (failing closed)")
}

// evaluationFor returns the policy's evaluation of name's document,
// without reading the document when a valid evaluation is in memory.
func (s *Server) evaluationFor(ctx context.Context, up *upstream, name, auth string) (*evaluation, *docResult, error) {
	key := docKey(up, name, auth)
	now := s.now()
	if m, ok := s.metas.get(key); ok && s.fresh(m, now) {
		if e, ok := s.evals.get(evalKey(key, m.id, s.policy.Load().gen, s.epochs.of(name))); ok && e.valid(now) {
			return e, nil, nil
		}
	}
	doc, err := s.document(ctx, up, name, auth)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.evaluate(doc)
	if err != nil {
		return nil, nil, err
	}
	return e, doc, nil
}

// serveVersion answers GET /<name>/<version or dist-tag>: one version's
// manifest, as the registry serves it, unless the version is held back.
func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request, rt route) {
	up := s.ups.forName(rt.name)
	auth := up.clientAuth(r.Header.Get("Authorization"))
	doc, err := s.document(r.Context(), up, rt.name, auth)
	if err != nil {
		s.writeUpstreamFailure(w, rt.name, up, err)
		return
	}
	e, err := s.evaluate(doc)
	if err != nil {
		s.writeUpstreamFailure(w, rt.name, up, err)
		return
	}
	version := rt.spec
	if target, ok := e.DistTags[version]; ok {
		version = target
	}
	if e.Removed[version] {
		d := e.Decisions[version]
		refuse(w, r, http.StatusForbidden, "vigil blocked "+rt.name+"@"+version+": "+summary(d))
		return
	}
	if _, ok := e.dists[version]; !ok {
		writeError(w, http.StatusNotFound, "Not found: "+rt.name+"@"+rt.spec)
		return
	}
	vm, ok, err := findMember(doc.body, 0, "versions")
	if err == nil && ok && doc.body[vm.valueStart] == '{' {
		var m member
		if m, ok, err = findMember(doc.body, vm.valueStart, version); err == nil && ok && doc.body[m.valueStart] == '{' {
			var buf bytes.Buffer
			if err = writeVersion(doc.body, m.valueStart, m.valueEnd, s.publicURL+tarballPath(rt.name, version), &buf); err == nil {
				w.Header().Set("Content-Type", registry.MediaTypeJSON)
				w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
				w.Header().Set("Cache-Control", "no-cache")
				w.WriteHeader(http.StatusOK)
				if r.Method != http.MethodHead {
					_, _ = w.Write(buf.Bytes())
				}
				return
			}
		}
	}
	s.log.Error("extracting a version from a packument failed", "name", rt.name, "version", version, "err", err)
	writeError(w, http.StatusBadGateway, "vigil: could not read "+rt.name+"@"+version+" from the registry's document")
}
