package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Proxy is vigil.yaml's proxy section: how 'vigil proxy' listens, where it
// fetches from and what it keeps.
type Proxy struct {
	// Listen is the address npm talks to; default "127.0.0.1:4873".
	Listen string `yaml:"listen"`
	// AdminListen is the admin API's address; "" (the default) turns the
	// admin API off. Its bearer token comes from $VIGIL_ADMIN_TOKEN.
	AdminListen string `yaml:"admin_listen"`
	// PublicURL is the base URL clients use, for rewriting tarball URLs;
	// default http://<listen>/ (an unspecified host reads as localhost, so
	// set it when other machines use the proxy).
	PublicURL string `yaml:"public_url"`
	// Upstreams are the registries fetched from. The one without scopes is
	// the default; when none is listed without scopes, the public registry
	// (https://registry.npmjs.org/) is added as the default.
	Upstreams []Upstream `yaml:"upstreams"`
	Cache     ProxyCache `yaml:"cache"`
	// FailOpen: pass the upstream's own error answer through instead of
	// the proxy's 502/503 when nothing is cached (and serve a tarball
	// whose first-request analysis cannot finish, with a warning); default
	// false. A document the proxy cannot read is never served.
	FailOpen bool `yaml:"fail_open"`
	// PublicMetrics serves the Prometheus metrics on the registry listener
	// too (/-/vigil/metrics), to anyone who can reach it; default false:
	// the metrics are on the admin API's /metrics, behind its token.
	// /-/vigil/healthz is always public.
	PublicMetrics bool `yaml:"public_metrics"`
	// TrustedProxies are the load balancers and ingresses in front of the
	// proxy, as IP addresses or CIDR prefixes ("10.0.0.0/8", "2001:db8::/32",
	// "192.0.2.7"). A request whose peer is one of them is recorded under
	// the client its X-Forwarded-For or Forwarded header names; from any
	// other peer those headers are ignored. Default: none (the peer is the
	// client). See docs/proxy.md.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Store is "sqlite:///path/vigil.db", a plain path, or
	// "postgres://…"; "" (the default) means the store package's default
	// location (internal/store.DefaultDSN, overridable by $VIGIL_STORE).
	// The default is not resolved here: internal/store imports
	// internal/policy, which imports this package.
	Store string `yaml:"store"`
}

// Upstream is one registry the proxy fetches from.
type Upstream struct {
	URL string `yaml:"url"`
	// Scopes routes these scopes ("@myorg") here and nowhere else; empty
	// makes this the default upstream (exactly one may be default).
	Scopes []string `yaml:"scopes"`
	// TokenEnv names the environment variable holding a bearer token sent
	// upstream instead of the client's auth.
	TokenEnv string `yaml:"token_env"`
	// ForwardAuth says whether the client's Authorization header is sent
	// to this upstream (without token_env). Unset means true for a scoped
	// upstream (how clients log in to a private registry) and false for
	// the default one: npm sends the token it holds for the proxy's host
	// on every request, and the public registry is a third party. Without
	// forwarding, every client shares one cached copy of a document.
	ForwardAuth *bool `yaml:"forward_auth"`
}

// ForwardsAuth resolves ForwardAuth's default: whether the client's
// Authorization is forwarded to this upstream.
func (u Upstream) ForwardsAuth() bool {
	if u.ForwardAuth != nil {
		return *u.ForwardAuth
	}
	return len(u.Scopes) > 0
}

// ProxyCache is where and how much the proxy caches.
type ProxyCache struct {
	// Dir defaults to <user cache dir>/vigil/proxy.
	Dir string `yaml:"dir"`
	// MaxSize is e.g. "10GiB"; default 10 GiB.
	MaxSize ByteSize `yaml:"max_size"`
	// PackumentTTL is how long a packument is served before revalidation;
	// default 5m.
	PackumentTTL Duration `yaml:"packument_ttl"`
}

// Proxy defaults.
const (
	DefaultListen       = "127.0.0.1:4873"
	DefaultUpstream     = "https://registry.npmjs.org/"
	DefaultCacheMaxSize = 10 * GiB
	DefaultPackumentTTL = Duration(5 * time.Minute)
)

// DefaultProxy is the proxy configuration when vigil.yaml says nothing.
func DefaultProxy() Proxy {
	var p Proxy
	p.applyDefaults()
	return p
}

func (p *Proxy) applyDefaults() {
	setDefault(&p.Listen, DefaultListen)
	if p.PublicURL == "" {
		p.PublicURL = "http://" + publicHost(p.Listen) + "/"
	}
	if p.Cache.Dir == "" {
		// Left empty when the platform has no cache folder; the proxy
		// then reports that it needs proxy.cache.dir.
		if dir, err := os.UserCacheDir(); err == nil {
			p.Cache.Dir = filepath.Join(dir, "vigil", "proxy")
		}
	}
	if p.Cache.MaxSize == 0 {
		p.Cache.MaxSize = DefaultCacheMaxSize
	}
	if p.Cache.PackumentTTL == 0 {
		p.Cache.PackumentTTL = DefaultPackumentTTL
	}
	for i := range p.Upstreams {
		if len(p.Upstreams[i].Scopes) == 0 {
			return
		}
	}
	p.Upstreams = append(p.Upstreams, Upstream{URL: DefaultUpstream})
}

// publicHost is the host:port clients reach a listen address at.
func publicHost(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen // reported by validate
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// DefaultUpstreamIndex returns the index of the upstream without scopes.
func (p *Proxy) DefaultUpstreamIndex() int {
	for i, u := range p.Upstreams {
		if len(u.Scopes) == 0 {
			return i
		}
	}
	return -1
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks a proxy section whose defaults were applied, and
// normalises URLs to end in "/".
func (p *Proxy) validate(l *locator) error {
	if err := validateListen(p.Listen); err != nil {
		return l.errorf("proxy.listen", "%v", err)
	}
	if p.AdminListen != "" {
		if err := validateListen(p.AdminListen); err != nil {
			return l.errorf("proxy.admin_listen", "%v", err)
		}
		if p.AdminListen == p.Listen {
			return l.errorf("proxy.admin_listen", "%q is also proxy.listen: the admin API needs its own address", p.AdminListen)
		}
	}
	u, err := validateBaseURL(p.PublicURL)
	if err != nil {
		return l.errorf("proxy.public_url", "%v", err)
	}
	p.PublicURL = u
	defaultAt := -1
	scopeAt := map[string]int{}
	for i := range p.Upstreams {
		up := &p.Upstreams[i]
		field := fmt.Sprintf("proxy.upstreams[%d]", i)
		u, err := validateBaseURL(up.URL)
		if err != nil {
			return l.errorf(field+".url", "%v", err)
		}
		up.URL = u
		if len(up.Scopes) == 0 {
			if defaultAt >= 0 {
				return l.errorf(field, "a second default upstream (no scopes), after proxy.upstreams[%d]: give all but one of them scopes", defaultAt)
			}
			defaultAt = i
		}
		for j, s := range up.Scopes {
			sf := fmt.Sprintf("%s.scopes[%d]", field, j)
			if err := validateScope(s); err != nil {
				return l.errorf(sf, "%v", err)
			}
			if k, dup := scopeAt[s]; dup {
				return l.errorf(sf, "scope %s is already routed to proxy.upstreams[%d]: a scope has one upstream", s, k)
			}
			scopeAt[s] = i
		}
		if up.TokenEnv != "" && !envName.MatchString(up.TokenEnv) {
			return l.errorf(field+".token_env", "%q is not an environment variable name (letters, digits, _; name the variable, do not paste the token)", up.TokenEnv)
		}
		if up.TokenEnv != "" && up.ForwardAuth != nil && *up.ForwardAuth {
			return l.errorf(field+".forward_auth", "forward_auth: true has no effect with token_env: the token replaces the client's Authorization (remove one of them)")
		}
	}
	seen := map[netip.Prefix]int{}
	for i, raw := range p.TrustedProxies {
		field := fmt.Sprintf("proxy.trusted_proxies[%d]", i)
		pfx, err := ParseTrustedProxy(raw)
		if err != nil {
			return l.errorf(field, "%v", err)
		}
		if j, dup := seen[pfx]; dup {
			return l.errorf(field, "%q is already listed as proxy.trusted_proxies[%d]", raw, j)
		}
		seen[pfx] = i
	}
	if p.Cache.MaxSize < 0 {
		return l.errorf("proxy.cache.max_size", "must not be negative")
	}
	if err := validateStoreDSN(p.Store); err != nil {
		return l.errorf("proxy.store", "%v", err)
	}
	return nil
}

// ParseTrustedProxy reads one proxy.trusted_proxies entry: an IP address
// (a one-address prefix) or a CIDR prefix without host bits. Refused: a
// zone, an IPv4-mapped IPv6 form (write the IPv4 one), and a prefix of
// length 0, which would let every client choose its recorded address.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if strings.TrimSpace(s) != s || s == "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, 192.0.2.7)", s)
	}
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix (e.g. 10.0.0.0/8, 2001:db8::/32)", s)
		}
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length: write %s", s, p.Masked())
		}
		pfx = p
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix (e.g. 10.0.0.0/8, 192.0.2.7)", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: an address with a zone is not accepted (remove %%%s)", s, a.Zone())
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 address: write the IPv4 form", s)
	}
	if pfx.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address: any client could choose the address it is recorded under (list the balancers' addresses)", s)
	}
	return pfx, nil
}

// TrustedPrefixes returns TrustedProxies parsed; entries that do not
// parse (a section that was not validated) are left out.
func (p *Proxy) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range p.TrustedProxies {
		if pfx, err := ParseTrustedProxy(s); err == nil {
			out = append(out, pfx)
		}
	}
	return out
}

func validateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:4873)", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: bad host %q", addr, host)
	}
	return nil
}

// validateBaseURL checks an absolute http(s) URL without query or
// fragment, and returns it ending in "/".
func validateBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: a base URL has no query, fragment or credentials (use token_env for a token)", raw)
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}

func validateScope(s string) error {
	if !strings.HasPrefix(s, "@") || strings.Contains(s, "/") {
		return fmt.Errorf("%q is not a scope: write it as @name", s)
	}
	if err := npm.ValidateName(s + "/x"); err != nil {
		return fmt.Errorf("%q is not a valid scope", s)
	}
	return nil
}

func validateStoreDSN(dsn string) error {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil // "" (the default) or a plain SQLite path
	}
	switch scheme {
	case "sqlite", "postgres", "postgresql":
		return nil
	}
	return fmt.Errorf("%q: a store is sqlite://PATH, postgres://… or a plain file path", dsn)
}
