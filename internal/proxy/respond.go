package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// writeError sends {"error": msg}: npm prints a registry error body's
// "error" field after the status line ("403 Forbidden - GET <url> - msg"),
// and yarn 1 prints it for metadata requests. Refusals go through refuse,
// which makes pnpm, yarn 4 and bun show msg too (docs/proxy.md).
func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	h := w.Header()
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeUpstreamFailure answers a request the upstream could not serve.
//   - 404/410: the package or file does not exist there (for a scoped
//     upstream the message names it: the name was never looked up on the
//     public registry).
//   - 401/403: passed through, so the client can log in.
//   - anything else: fail closed, 502 when the upstream answered badly,
//     503 when it could not be reached; with FailOpen the upstream's own
//     error answer is passed through instead.
func (s *Server) writeUpstreamFailure(w http.ResponseWriter, what string, up *upstream, err error) {
	var ue *upstreamError
	if errors.Is(err, errInvalidDocument) {
		s.log.Error("upstream sent an invalid packument", "what", what, "err", err)
		writeError(w, http.StatusBadGateway, "vigil: the upstream registry sent a document the firewall cannot read for "+what+" (failing closed)")
		return
	}
	if !errors.As(err, &ue) {
		s.log.Error("request failed", "what", what, "err", err)
		writeError(w, http.StatusBadGateway, "vigil: "+what+": "+err.Error())
		return
	}
	switch {
	case ue.notFound():
		where := ""
		if up != s.ups.def {
			where = " (the scope's registry " + up.String() + "; never looked up elsewhere)"
		}
		writeError(w, http.StatusNotFound, "Not found: "+what+where)
		return
	case ue.authFailure():
		passThroughError(w, ue, "vigil: the upstream registry refused the credentials for "+what)
		return
	case ue.Status != 0 && s.failOpen:
		passThroughError(w, ue, "vigil: upstream HTTP "+strconv.Itoa(ue.Status)+" for "+what)
		return
	case ue.Status != 0:
		s.log.Warn("upstream error", "what", what, "status", ue.Status)
		writeError(w, http.StatusBadGateway, "vigil: the upstream registry answered HTTP "+strconv.Itoa(ue.Status)+" for "+what+" and nothing is cached (failing closed)")
		return
	}
	s.log.Warn("upstream unreachable", "what", what, "err", err)
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusGatewayTimeout, "vigil: the upstream registry did not answer in time for "+what+" and nothing is cached (failing closed)")
		return
	}
	writeError(w, http.StatusServiceUnavailable, "vigil: the upstream registry is unreachable for "+what+" and nothing is cached (failing closed)")
}

// passThroughError sends the upstream's status and, when it is JSON, its
// body; otherwise {"error": fallback}.
func passThroughError(w http.ResponseWriter, ue *upstreamError, fallback string) {
	if ra := ue.Header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	if wa := ue.Header.Get("WWW-Authenticate"); wa != "" {
		w.Header().Set("WWW-Authenticate", wa)
	}
	mt, _, _ := mime.ParseMediaType(ue.Header.Get("Content-Type"))
	if mt == "application/json" && json.Valid(ue.Body) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(ue.Body)))
		w.WriteHeader(ue.Status)
		_, _ = w.Write(ue.Body)
		return
	}
	writeError(w, ue.Status, fallback)
}

// variantFor picks the packument form an Accept header asks for: the
// abbreviated one when it is acceptable at least as much as full JSON.
func variantFor(accept string) variant {
	qAbbr, qJSON := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "application/vnd.npm.install-v1+json":
			qAbbr = max(qAbbr, q)
		case "application/json":
			qJSON = max(qJSON, q)
		}
	}
	if qAbbr > 0 && qAbbr >= qJSON {
		return variantAbbreviated
	}
	return variantFull
}

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison against the tags
// the resource has.
func etagMatches(ifNoneMatch string, tags ...string) bool {
	for part := range strings.SplitSeq(ifNoneMatch, ",") {
		t := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if t == "*" {
			return true
		}
		for _, tag := range tags {
			if t == strings.TrimPrefix(tag, "W/") {
				return true
			}
		}
	}
	return false
}

// writeRendered sends a filtered packument (or its 304/403).
func (s *Server) writeRendered(w http.ResponseWriter, r *http.Request, rr *rendered, stale bool) {
	h := w.Header()
	if rr.notice != "" {
		// npm prints npm-notice ("npm notice vigil held back …"); the
		// other clients ignore it, X-Vigil-Held says the same for tools.
		h.Set("npm-notice", rr.notice)
		h.Set("X-Vigil-Held", rr.notice)
	}
	if rr.forbidden != "" {
		refuse(w, r, http.StatusForbidden, rr.forbidden)
		return
	}
	if stale {
		h.Set("X-Vigil-Stale", "the upstream registry failed; this is the cached copy")
	}
	gzTag := strings.TrimSuffix(rr.etag, `"`) + `-gz"`
	useGz := acceptsGzip(r)
	etag := rr.etag
	if useGz {
		etag = gzTag
	}
	h.Set("Content-Type", rr.contentType)
	// no-cache: clients revalidate every time (a cheap 304), so a policy
	// change or a new quarantine entry applies to the next install. A
	// document with held-back versions is no-store: npm prints npm-notice
	// only for responses it does not cache (make-fetch-happen marks stored
	// ones x-local-cache, and check-response skips those), and the held
	// versions must be named on every install that could have used them.
	if rr.notice != "" {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Add("Vary", "Accept, Accept-Encoding")
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, rr.etag, gzTag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := rr.body
	if useGz {
		body = rr.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Refusals — a held-back tarball or version, a package whose every version
// is held back, a tarball that failed verification — must say why in the
// client's own output, and each client prints a different part of an
// error response (docs/proxy.md, "What each client prints"):
//
//   - npm prints the JSON body's "error" after the status line: it gets
//     writeError's answer, unchanged.
//   - pnpm (FetchError: statusText) and yarn 4 (httpUtils: "Response Code:
//     403 (<statusMessage>)") print the HTTP reason phrase. net/http
//     always writes the standard phrase, so for HTTP/1.x the response is
//     written on the hijacked connection with the message as the phrase:
//     "HTTP/1.1 403 vigil blocked debug@4.4.2: MAL-2025-46974 …".
//   - bun prints only "GET <url> - <status>", where <url> is the last URL
//     of a redirect chain: it is redirected once to the same path with the
//     message in ?reason=, and that request is refused as above.
//   - yarn 1 prints body.error for metadata requests, but only the
//     standard phrase for tarballs (http.STATUS_CODES): nothing an answer
//     can change.
//
// The body is {"error": msg} in every case.

// reasonParam carries a refusal's message in the URL bun is redirected to;
// its presence also marks the redirected request, so there is one hop.
const reasonParam = "reason"

// maxReasonPhrase bounds the message in a status line or a URL.
const maxReasonPhrase = 300

// refuse sends a refusal with status and msg in the form r's client shows.
// Other clients (npm, yarn 1 for tarballs, tools) get writeError's answer.
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	switch refusalFor(r) {
	case refuseByRedirect:
		redirectWithReason(w, r, msg)
		return
	case refuseWithReasonPhrase:
		if writeWithReasonPhrase(w, r, status, msg) {
			return
		}
	}
	writeError(w, status, msg)
}

type refusalForm int

const (
	refuseWithBody refusalForm = iota
	refuseWithReasonPhrase
	refuseByRedirect
)

// refusalFor picks the form of a refusal by the client's User-Agent:
// "pnpm/…"; "got (…" (yarn 2–4 send the default User-Agent of got, their
// HTTP library, and nothing else that names them); "Bun/…". The custom
// reason phrase goes only to the clients known to print it, so npm (which
// would print the message twice), yarn 1 (which never prints it) and other
// tools see an ordinary response.
func refusalFor(r *http.Request) refusalForm {
	ua := r.Header.Get("User-Agent")
	switch {
	case strings.HasPrefix(ua, "Bun/") && !r.URL.Query().Has(reasonParam):
		return refuseByRedirect
	case strings.HasPrefix(ua, "pnpm/") || strings.HasPrefix(ua, "got ("):
		return refuseWithReasonPhrase
	}
	return refuseWithBody
}

// refusalStatus is the status refuse sends for status.
func refusalStatus(r *http.Request, status int) int {
	if refusalFor(r) == refuseByRedirect {
		return http.StatusTemporaryRedirect
	}
	return status
}

// redirectWithReason answers 307 to the same path with ?reason=<msg>.
func redirectWithReason(w http.ResponseWriter, r *http.Request, msg string) {
	u := *r.URL
	u.RawQuery = reasonParam + "=" + readableQueryEscape(headerSafe(msg, maxReasonPhrase))
	h := w.Header()
	h.Set("Location", u.RequestURI())
	h.Set("Cache-Control", "no-store")
	writeError(w, http.StatusTemporaryRedirect, msg)
}

// readableQueryEscape escapes s for a query value, leaving the characters
// a query may carry unescaped as they are (bun prints the URL as its URL
// parser normalised it, which escapes "'") and writing spaces as "+".
func readableQueryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~@:,()!*/=", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// writeWithReasonPhrase writes the refusal with msg as the status line's
// reason phrase, on the hijacked HTTP/1.x connection (closed afterwards).
// It reports false, having written nothing, when the connection cannot be
// hijacked (HTTP/2 has no reason phrase).
func writeWithReasonPhrase(w http.ResponseWriter, r *http.Request, status int, msg string) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	body = append(body, '\n')
	h := w.Header().Clone()
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	fmt.Fprintf(brw, "HTTP/1.1 %03d %s\r\n", status, reasonPhrase(msg))
	_ = h.Write(brw)
	_, _ = brw.WriteString("\r\n")
	if r.Method != http.MethodHead {
		_, _ = brw.Write(body)
	}
	_ = brw.Flush()
	noteStatus(w, status)
	return true
}

// reasonPhrase makes msg a valid reason phrase (RFC 9112: HTAB, SP and
// visible characters): printable ASCII only, bounded.
func reasonPhrase(msg string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, headerSafe(msg, maxReasonPhrase))
}

// noteStatus tells the statusRecorder under w (for metrics and download
// records) the status of a response written on the hijacked connection.
func noteStatus(w http.ResponseWriter, status int) {
	for {
		if sr, ok := w.(*statusRecorder); ok {
			if sr.status == 0 {
				sr.status = status
			}
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
