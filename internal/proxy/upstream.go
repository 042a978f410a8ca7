package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Upstream is one registry the proxy fetches from.
type Upstream struct {
	// URL is the registry's base URL; it may carry a path
	// (https://repo.example.com/api/npm/npm-remote/).
	URL string
	// Scopes routes these scopes ("@myorg") here. Exactly one upstream has
	// none: the default, which serves every other name. A scope mapped to
	// an upstream is never looked up anywhere else, so a public package
	// cannot stand in for a private one (dependency confusion).
	Scopes []string
	// Token, when set, is sent as "Authorization: Bearer <token>" instead
	// of the client's own Authorization.
	Token string
	// ForwardAuth says whether the client's Authorization is sent here
	// (when there is no Token). nil means the default: true for a scoped
	// upstream (how clients authenticate to a private registry), false for
	// the default upstream — a token a client holds for the proxy's host
	// (npm sends it on every request) must not reach a public third-party
	// registry, and documents fetched without it are shared by every
	// client (one cache entry, coalesced fetches).
	ForwardAuth *bool
}

// DefaultMaxCredentialFetches bounds the concurrent document fetches an
// upstream runs with client credentials (each keyed by its credential,
// so neither cached for nor coalesced with another client's): arbitrary
// Authorization values cannot start an unbounded number of large reads.
const DefaultMaxCredentialFetches = 8

// upstream is a validated Upstream.
type upstream struct {
	base        *url.URL // ends in "/"
	token       string
	forwardAuth bool
	// credFetches is a semaphore over the document fetches made with a
	// client's own credentials.
	credFetches chan struct{}
}

func (u *upstream) String() string { return u.base.String() }

// upstreams routes package names to registries.
type upstreams struct {
	def     *upstream
	byScope map[string]*upstream // lower-case "@scope"
}

func newUpstreams(list []Upstream) (*upstreams, error) {
	us := &upstreams{byScope: map[string]*upstream{}}
	for i, u := range list {
		base, err := url.Parse(u.URL)
		if err != nil {
			return nil, fmt.Errorf("upstream %d %q: %w", i+1, u.URL, err)
		}
		if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return nil, fmt.Errorf("upstream %d %q: want http(s)://host/", i+1, u.URL)
		}
		if base.User != nil {
			return nil, fmt.Errorf("upstream %d: credentials in the URL are not accepted; use a token", i+1)
		}
		base.RawQuery, base.Fragment = "", ""
		if !strings.HasSuffix(base.Path, "/") {
			base.Path += "/"
			if base.RawPath != "" {
				base.RawPath += "/"
			}
		}
		forward := len(u.Scopes) > 0
		if u.ForwardAuth != nil {
			forward = *u.ForwardAuth
		}
		up := &upstream{base: base, token: u.Token, forwardAuth: forward, credFetches: make(chan struct{}, DefaultMaxCredentialFetches)}
		if len(u.Scopes) == 0 {
			if us.def != nil {
				return nil, fmt.Errorf("upstream %d %q: two default upstreams (%s and %s); give one of them scopes", i+1, u.URL, us.def, base)
			}
			us.def = up
			continue
		}
		for _, s := range u.Scopes {
			s = strings.ToLower(strings.TrimSpace(s))
			if !strings.HasPrefix(s, "@") || len(s) < 2 || strings.Contains(s, "/") {
				return nil, fmt.Errorf("upstream %d %q: scope %q: want @scope", i+1, u.URL, s)
			}
			if prev, dup := us.byScope[s]; dup {
				return nil, fmt.Errorf("upstream %d %q: scope %s is already routed to %s", i+1, u.URL, s, prev)
			}
			us.byScope[s] = up
		}
	}
	if us.def == nil {
		return nil, errors.New("no default upstream (one without scopes)")
	}
	return us, nil
}

// forName returns the upstream that owns name.
func (us *upstreams) forName(name string) *upstream {
	if scope := npm.Scope(name); scope != "" {
		if up, ok := us.byScope[strings.ToLower(scope)]; ok {
			return up
		}
	}
	return us.def
}

// packumentURL is <base><name>, a scope's slash encoded as npm does.
func (u *upstream) packumentURL(name string) string {
	if scope := npm.Scope(name); scope != "" {
		return u.base.String() + url.PathEscape(scope) + "%2f" + url.PathEscape(name[len(scope)+1:])
	}
	return u.base.String() + url.PathEscape(name)
}

// resolveTarball turns a version's dist.tarball into the URL to fetch.
// Like npm (replace-registry-host), a registry.npmjs.org URL is moved to
// this upstream, so a mirror upstream serves its own bytes.
func (u *upstream) resolveTarball(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("the version has no dist.tarball")
	}
	t, err := u.base.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("dist.tarball %q: %w", raw, err)
	}
	if t.Scheme != "http" && t.Scheme != "https" {
		return nil, fmt.Errorf("dist.tarball %q: not http(s)", raw)
	}
	if t.Host == "registry.npmjs.org" && u.base.Host != t.Host {
		moved, err := u.base.Parse(strings.TrimPrefix(t.EscapedPath(), "/"))
		if err != nil {
			return nil, fmt.Errorf("dist.tarball %q: %w", raw, err)
		}
		return moved, nil
	}
	return t, nil
}

// sameOrigin reports whether target is on this upstream's scheme and host,
// the only place credentials are ever sent.
func (u *upstream) sameOrigin(target *url.URL) bool {
	return strings.EqualFold(target.Scheme, u.base.Scheme) && strings.EqualFold(target.Host, u.base.Host)
}

// clientAuth is the part of a client's Authorization header that matters
// for this upstream: the header itself when it is forwarded there, else
// "" (a configured token replaces it; an upstream that does not forward
// client credentials never sees them). Requests take it once, at the
// route, so cache keys, coalescing and upstream requests all agree.
func (u *upstream) clientAuth(header string) string {
	if u.token != "" || !u.forwardAuth {
		return ""
	}
	return header
}

// authorization is the Authorization header to send to target: the
// configured token, else the client's own when this upstream forwards
// it; nothing to another host.
func (u *upstream) authorization(target *url.URL, client string) string {
	if !u.sameOrigin(target) {
		return ""
	}
	if u.token != "" {
		return "Bearer " + u.token
	}
	return u.clientAuth(client)
}

// newUpstreamClient is the HTTP client for upstream requests. It has no
// overall timeout (a 50 MB tarball on a slow link is legitimate); each
// request carries a context deadline instead, and connection set-up and
// response headers are bounded here.
func newUpstreamClient(headerTimeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: t,
		// Redirects are followed only within the same host, so a token
		// cannot be carried to a host it was not meant for (net/http drops
		// Authorization on cross-host redirects too; this is belt and braces).
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
				req.Header.Del("Authorization")
			}
			return nil
		},
	}
}

// upstreamError is a failed upstream exchange: Status is the upstream's
// HTTP status (0 when no response arrived).
type upstreamError struct {
	URL    string
	Status int
	Body   []byte // a bounded snippet, for pass-through in fail-open mode
	Header http.Header
	Err    error
}

func (e *upstreamError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("upstream %s: HTTP %d", redactURL(e.URL), e.Status)
	}
	return fmt.Sprintf("upstream %s: %v", redactURL(e.URL), e.Err)
}

func (e *upstreamError) Unwrap() error { return e.Err }

// notFound reports an upstream 404 (or 410): the package or file does not
// exist there, which is an answer, not an outage.
func (e *upstreamError) notFound() bool {
	return e.Status == http.StatusNotFound || e.Status == http.StatusGone
}

// authFailure reports an upstream 401/403, passed through to the client
// so that it can log in.
func (e *upstreamError) authFailure() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// doUpstream sends one request with the client's relevant headers.
func (s *Server) doUpstream(ctx context.Context, up *upstream, kind string, target *url.URL, clientAuth string, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, &upstreamError{URL: target.String(), Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", s.userAgent)
	if a := up.authorization(target, clientAuth); a != "" {
		req.Header.Set("Authorization", a)
	}
	start := s.now()
	resp, err := s.hc.Do(req)
	s.metrics.upstreamLatency.observe(s.now().Sub(start).Seconds(), kind)
	if err != nil {
		return nil, &upstreamError{URL: target.String(), Err: err}
	}
	return resp, nil
}
