package config

import (
	"errors"
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
