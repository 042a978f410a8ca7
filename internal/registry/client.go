// Package registry is Vigil's npm registry client: packuments (full and
// abbreviated) with conditional requests, tarballs verified against
// dist.integrity while they are read, the registry's ECDSA signatures, and
// the publish history questions the analysis and the proxy ask (which
// release came before this one, who published it, with what provenance).
//
// Everything the registry sends is untrusted: responses are size-capped,
// requests are bounded in time and retried with backoff, and a tarball is
// only ever returned after its digest matched — or, for a version the
// registry no longer lists, with a flag saying it could not be verified.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// DefaultURL is the public npm registry.
const DefaultURL = "https://registry.npmjs.org/"

// Defaults for Options fields left zero.
const (
	DefaultRetries          = 3
	DefaultRetryBase        = 500 * time.Millisecond
	DefaultRetryMaxWait     = 30 * time.Second
	DefaultMaxPackumentSize = 128 << 20 // the largest packuments (next, @types/node, typescript) are tens of MB
	DefaultMaxTarballSize   = 256 << 20
	DefaultUserAgent        = "vigil (+https://github.com/vigil-sec/vigil)"
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests. Nil means a client of this package's
	// own with connect, TLS, header and overall timeouts (never
	// http.DefaultClient, which has none).
	HTTPClient *http.Client
	// Token is sent as "Authorization: Bearer <token>", only to the
	// registry's own host: tarball URLs may point elsewhere.
	Token string
	// UserAgent defaults to DefaultUserAgent.
	UserAgent string
	// Retries is how many times a failed request is retried: on connection
	// errors, bodies cut short, 408, 429 and 5xx (not 501/505). 0 means
	// DefaultRetries; a negative value disables retries.
	Retries int
	// RetryBase is the first backoff; it doubles with each retry, with
	// jitter, up to RetryMaxWait. A Retry-After from the server is honoured
	// as given when it is at most RetryMaxWait; a longer one ends the
	// retries with the server's answer rather than hold a caller for it.
	RetryBase    time.Duration
	RetryMaxWait time.Duration
	// MaxPackumentSize and MaxTarballSize cap response bodies, measured
	// after HTTP decompression.
	MaxPackumentSize int64
	MaxTarballSize   int64
}

// Client talks to one npm registry. It is safe for concurrent use.
type Client struct {
	base         *url.URL
	hc           *http.Client
	token        string
	userAgent    string
	retries      int
	retryBase    time.Duration
	retryMaxWait time.Duration
	maxPackument int64
	maxTarball   int64
}

// New returns a client for the registry at baseURL ("" for DefaultURL).
// baseURL may carry a path, as registries behind Artifactory or Nexus do
// (https://repo.example.com/api/npm/npm-remote/).
func New(baseURL string, opts Options) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultURL
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("registry URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry URL %q: want http(s)://host/", baseURL)
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	c := &Client{
		base:         u,
		hc:           opts.HTTPClient,
		token:        opts.Token,
		userAgent:    opts.UserAgent,
		retries:      opts.Retries,
		retryBase:    opts.RetryBase,
		retryMaxWait: opts.RetryMaxWait,
		maxPackument: opts.MaxPackumentSize,
		maxTarball:   opts.MaxTarballSize,
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.retryBase <= 0 {
		c.retryBase = DefaultRetryBase
	}
	if c.retryMaxWait <= 0 {
		c.retryMaxWait = DefaultRetryMaxWait
	}
	if c.maxPackument <= 0 {
		c.maxPackument = DefaultMaxPackumentSize
	}
	if c.maxTarball <= 0 {
		c.maxTarball = DefaultMaxTarballSize
	}
	return c, nil
}

// BaseURL is the registry's URL, ending in "/".
func (c *Client) BaseURL() string { return c.base.String() }

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 16
	// The overall limit covers reading the body too: generous enough for a
	// 50 MB packument on a slow link, short enough that a stalled transfer
	// ends.
	return &http.Client{Transport: t, Timeout: 5 * time.Minute}
}

// packumentURL is <base>/<name>, with a scope's slash encoded as npm does
// (@scope%2fname).
func (c *Client) packumentURL(name string) string {
	if scope := npm.Scope(name); scope != "" {
		return c.base.String() + url.PathEscape(scope) + "%2f" + url.PathEscape(name[len(scope)+1:])
	}
	return c.base.String() + url.PathEscape(name)
}

// conventionalTarballURL is where the registry keeps a version's tarball:
// <base>/<name>/-/<basename>-<version>.tgz, the scope's slash left literal.
func (c *Client) conventionalTarballURL(name, version string) string {
	base := name
	if scope := npm.Scope(name); scope != "" {
		base = name[len(scope)+1:]
		return c.base.String() + url.PathEscape(scope) + "/" + url.PathEscape(base) + "/-/" +
			url.PathEscape(base+"-"+version+".tgz")
	}
	return c.base.String() + url.PathEscape(name) + "/-/" + url.PathEscape(base+"-"+version+".tgz")
}

// tarballURL resolves dist.tarball. Like npm (replace-registry-host=npmjs),
// a URL on registry.npmjs.org is moved to the configured registry, so that a
// mirror or proxy serves the bytes; any other host is left alone.
func (c *Client) tarballURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("no tarball URL")
	}
	u, err := c.base.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("tarball URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("tarball URL %q: not http(s)", raw)
	}
	if u.Host == "registry.npmjs.org" && c.base.Host != u.Host {
		return c.base.String() + strings.TrimPrefix(u.EscapedPath(), "/"), nil
	}
	return u.String(), nil
}

// response is one successful exchange, body already consumed by read.
type response struct {
	status int
	header http.Header
}

// get sends GET url with hdr, retrying as configured. read consumes the
// body of a 2xx response; its error is final unless it is a transientError.
// A 304 is returned to the caller without calling read.
func (c *Client) get(ctx context.Context, rawURL string, hdr http.Header, read func(*http.Response) error) (*response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, rawURL, hdr, read)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("GET %s: %w", redact(rawURL), context.Cause(ctx))
		}
		wait, retry := c.shouldRetry(err, attempt)
		if !retry {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("GET %s: %w (while waiting to retry after: %v)", redact(rawURL), context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, rawURL string, hdr http.Header, read func(*http.Response) error) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(rawURL), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" && strings.EqualFold(req.URL.Host, c.base.Host) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error already redacts the URL's password.
		return nil, &transientError{err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return &response{status: resp.StatusCode, header: resp.Header}, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if err := read(resp); err != nil {
			return nil, err
		}
		return &response{status: resp.StatusCode, header: resp.Header}, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	// Drain a little more so the connection can be reused; give up on
	// anything larger rather than read an unbounded error page.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil, &StatusError{
		URL:        rawURL,
		StatusCode: resp.StatusCode,
		Body:       strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// shouldRetry decides whether err is worth another attempt and how long to
// wait first.
func (c *Client) shouldRetry(err error, attempt int) (time.Duration, bool) {
	if attempt >= c.retries {
		return 0, false
	}
	backoff := c.retryBase << attempt
	if backoff <= 0 || backoff > c.retryMaxWait {
		backoff = c.retryMaxWait
	}
	// Full jitter in [backoff/2, backoff]: clients retrying in step would
	// otherwise hit a recovering registry together.
	backoff = backoff/2 + rand.N(backoff/2+1)

	var se *StatusError
	if errors.As(err, &se) {
		switch {
		case se.StatusCode == http.StatusRequestTimeout, se.StatusCode == http.StatusTooManyRequests,
			se.StatusCode >= 500 && se.StatusCode != http.StatusNotImplemented &&
				se.StatusCode != http.StatusHTTPVersionNotSupported:
		default:
			return 0, false
		}
		if se.RetryAfter > 0 {
			if se.RetryAfter > c.retryMaxWait {
				return 0, false
			}
			return se.RetryAfter, true
		}
		return backoff, true
	}
	var te *transientError
	if errors.As(err, &te) && !permanentTransportError(te.err) {
		return backoff, true
	}
	return 0, false
}

// permanentTransportError recognises transport failures another attempt
// will not fix: a bad certificate, a malformed URL, a redirect loop.
func permanentTransportError(err error) bool {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return false
	}
	msg := ue.Err.Error()
	return strings.Contains(msg, "certificate") || strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "stopped after") // too many redirects
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// readBody reads at most limit bytes of resp's body, passing them through w
// as well (hashing) when w is not nil. A body cut short is transient; a body
// over the limit is not.
func readBody(resp *http.Response, rawURL string, limit int64, w io.Writer) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &TooLargeError{URL: rawURL, Limit: limit, Size: resp.ContentLength}
	}
	size := resp.ContentLength
	if size < 0 || size > 16<<20 {
		size = 64 << 10 // grow as data arrives rather than trust a large declared length up front
	}
	buf := make([]byte, 0, size+1)
	var r io.Reader = io.LimitReader(resp.Body, limit+1)
	if w != nil {
		r = io.TeeReader(r, w)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{URL: rawURL, Limit: limit, Size: -1}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, &transientError{fmt.Errorf("GET %s: reading body after %d bytes: %w", redact(rawURL), len(buf), err)}
		}
	}
}

func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}
