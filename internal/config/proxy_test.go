package config

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestProxyForwardAuth(t *testing.T) {
	c := mustParse(t, `proxy:
  upstreams:
    - url: https://npm.corp.example/
      scopes: ['@corp']
    - url: https://npm.other.example/
      scopes: ['@other']
      forward_auth: false
    - url: https://npm.token.example/
      scopes: ['@tok']
      token_env: TOK
    - url: https://mirror.example/npm/
      forward_auth: true
`)
	want := []struct {
		set, forwards bool
	}{{false, true}, {true, false}, {false, true}, {true, true}}
	for i, w := range want {
		u := c.Proxy.Upstreams[i]
		if (u.ForwardAuth != nil) != w.set || u.ForwardsAuth() != w.forwards {
			t.Errorf("upstream %d (%s): forward_auth set %v, forwards %v; want %v, %v", i, u.URL, u.ForwardAuth != nil, u.ForwardsAuth(), w.set, w.forwards)
		}
	}
	// The default upstream, listed or added, does not forward by default.
	for _, y := range []string{"proxy: {}\n", "proxy:\n  upstreams:\n    - url: https://registry.npmjs.org/\n"} {
		c := mustParse(t, y)
		if u := c.Proxy.Upstreams[c.Proxy.DefaultUpstreamIndex()]; u.ForwardAuth != nil || u.ForwardsAuth() {
			t.Errorf("%q: the default upstream forwards client auth by default", y)
		}
	}

	_, err := Parse([]byte("proxy:\n  upstreams:\n    - url: https://a.example/\n      scopes: ['@a']\n      token_env: A_TOKEN\n      forward_auth: true\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "proxy.upstreams[0].forward_auth" || pe.Line != 6 || !strings.Contains(pe.Msg, "token_env") {
		t.Errorf("forward_auth with token_env: %v", err)
	}
	if _, err := Parse([]byte("proxy:\n  upstreams:\n    - url: https://a.example/\n      forward_auth: maybe\n")); err == nil {
		t.Error("forward_auth: maybe accepted")
	}
}

func TestProxyPublicMetrics(t *testing.T) {
	if DefaultProxy().PublicMetrics || mustParse(t, "proxy: {}\n").Proxy.PublicMetrics {
		t.Error("public_metrics is on by default")
	}
	if !mustParse(t, "proxy:\n  public_metrics: true\n").Proxy.PublicMetrics {
		t.Error("public_metrics: true not read")
	}
}

func TestProxyTrustedProxies(t *testing.T) {
	if len(DefaultProxy().TrustedProxies) != 0 || len(mustParse(t, "proxy: {}\n").Proxy.TrustedPrefixes()) != 0 {
		t.Error("trusted_proxies is not empty by default")
	}
	c := mustParse(t, "proxy:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 192.0.2.7\n    - 2001:db8::/32\n    - ::1\n    - 172.16.0.0/12\n")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("172.16.0.0/12"),
	}
	if got := c.Proxy.TrustedPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrustedPrefixes() = %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name, entries string
		field         string
		line          int
		msg           string
	}{
		{"garbage", "[load-balancer]", "proxy.trusted_proxies[0]", 2, "not an IP address or CIDR prefix"},
		{"hostname", "[lb.example.com]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"bad prefix length", "[10.0.0.0/33]", "proxy.trusted_proxies[0]", 2, "not a CIDR prefix"},
		{"bad IPv4", "[10.0.0.256]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"host bits", "[10.1.2.3/8]", "proxy.trusted_proxies[0]", 2, "write 10.0.0.0/8"},
		{"IPv6 host bits", "[\"2001:db8::1/32\"]", "proxy.trusted_proxies[0]", 2, "write 2001:db8::/32"},
		{"everyone IPv4", "[0.0.0.0/0]", "proxy.trusted_proxies[0]", 2, "trusts every address"},
		{"everyone IPv6", "[\"::/0\"]", "proxy.trusted_proxies[0]", 2, "trusts every address"},
		{"zone", "[\"fe80::1%eth0\"]", "proxy.trusted_proxies[0]", 2, "zone"},
		{"IPv4-mapped", "[\"::ffff:10.0.0.1\"]", "proxy.trusted_proxies[0]", 2, "IPv4 form"},
		{"IPv4-mapped prefix", "[\"::ffff:10.0.0.0/104\"]", "proxy.trusted_proxies[0]", 2, "IPv4 form"},
		{"empty", "[\"\"]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"spaces", "[\" 10.0.0.1\"]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"port", "[\"10.0.0.1:80\"]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"range", "[10.0.0.1-10.0.0.9]", "proxy.trusted_proxies[0]", 2, "not an IP address"},
		{"duplicate", "\n    - 10.0.0.0/8\n    - 192.0.2.7\n    - 10.0.0.0/8", "proxy.trusted_proxies[2]", 5, "already listed as proxy.trusted_proxies[0]"},
		{"same address twice", "\n    - 192.0.2.7\n    - 192.0.2.7/32", "proxy.trusted_proxies[1]", 4, "already listed"},
		{"later entry", "\n    - 10.0.0.0/8\n    - nope", "proxy.trusted_proxies[1]", 4, "\"nope\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("proxy:\n  trusted_proxies: " + tc.entries + "\n"))
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Field != tc.field || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %v (%#v); want %s at line %d saying %q", err, pe, tc.field, tc.line, tc.msg)
			}
		})
	}
	if _, err := Parse([]byte("proxy:\n  trusted_proxies: 10.0.0.0/8\n")); err == nil {
		t.Error("a scalar trusted_proxies accepted")
	}
}
