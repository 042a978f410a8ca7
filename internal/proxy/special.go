package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// maxPassThroughBody bounds a request body forwarded upstream (npm audit
// sends the whole dependency tree: a few MB for large projects).
const maxPassThroughBody = 32 << 20

// passThrough lists the /-/ endpoints forwarded to the default upstream
// unchanged, by method. They carry no package bytes: search results,
// audit reports, the signing keys `npm audit signatures` checks, whoami.
var passThrough = map[string][]string{
	"v1/search":                       {http.MethodGet, http.MethodHead},
	"npm/v1/security/advisories/bulk": {http.MethodPost},
	"npm/v1/security/audits/quick":    {http.MethodPost},
	"npm/v1/security/audits":          {http.MethodPost},
	"npm/v1/keys":                     {http.MethodGet, http.MethodHead},
	"whoami":                          {http.MethodGet},
}

// serveSpecial answers /-/… paths.
func (s *Server) serveSpecial(w http.ResponseWriter, r *http.Request, rt route) {
	switch rt.special {
	case "ping":
		// npm ping; answered here: the proxy is what the client talks to.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "{}\n")
		return
	case "vigil/healthz":
		s.serveHealth(w, r)
		return
	case "vigil/metrics":
		if !s.pubMetrics {
			writeError(w, http.StatusNotFound, "vigil: the metrics are served on the admin API (GET /metrics); set proxy.public_metrics to serve them here")
			return
		}
		s.serveMetrics(w, r)
		return
	}
	if methods, ok := passThrough[rt.special]; ok {
		for _, m := range methods {
			if r.Method == m {
				s.forward(w, r, rt.special)
				return
			}
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeError(w, http.StatusMethodNotAllowed, "vigil: "+r.Method+" /-/"+rt.special+" is not served")
		return
	}
	switch {
	case r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete:
		// Login (PUT /-/user/…, POST /-/v1/login), token and dist-tag
		// changes, team and org edits: the firewall is read-only.
		writeError(w, http.StatusMethodNotAllowed, "vigil: the registry firewall is read-only: log in, publish and change tokens, tags or access on the upstream registry directly")
	default:
		writeError(w, http.StatusNotFound, "vigil: /-/"+rt.special+" is not served by the registry firewall")
	}
}

// forward sends the request to the default upstream and copies the
// answer back.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, special string) {
	up := s.ups.def
	target, err := up.base.Parse("-/" + strings.TrimPrefix(r.URL.EscapedPath(), "/-/"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "vigil: bad path")
		return
	}
	target.RawQuery = r.URL.RawQuery
	ctx, cancel := context.WithTimeout(r.Context(), s.upstreamTimeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil && r.Method == http.MethodPost {
		body = http.MaxBytesReader(w, r.Body, maxPassThroughBody)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target.String(), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "vigil: "+err.Error())
		return
	}
	for _, h := range []string{"Accept", "Accept-Encoding", "Content-Type", "Content-Encoding", "npm-command", "npm-session", "npm-scope", "npm-auth-type"} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	req.ContentLength = r.ContentLength
	req.Header.Set("User-Agent", s.userAgent)
	if a := up.authorization(target, r.Header.Get("Authorization")); a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		s.metrics.upstreamErrors.inc("passthrough", errorReason(err))
		s.writeUpstreamFailure(w, "/-/"+special, up, &upstreamError{URL: target.String(), Err: err})
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Content-Encoding", "Content-Length", "Retry-After", "npm-notice", "WWW-Authenticate"} {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[http.CanonicalHeaderKey(h)] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, resp.Body)
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	// promhttp negotiates the format (text, OpenMetrics) and gzip.
	s.metrics.handler.ServeHTTP(w, r)
}
