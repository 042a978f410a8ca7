package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func testTrusted(t testing.TB, ps ...string) trustedProxies {
	t.Helper()
	var out []netip.Prefix
	for _, p := range ps {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pfx)
	}
	return newTrustedProxies(out)
}

func TestResolveClient(t *testing.T) {
	lb := testTrusted(t, "10.0.0.0/8", "2001:db8:1b::/48", "192.0.2.7/32")
	for _, tc := range []struct {
		name    string
		trusted trustedProxies
		peer    string
		hdr     [][2]string // name, value; repeated names are separate lines
		client  string
		source  string
		note    bool // a trusted peer's headers were refused
	}{
		// Untrusted peers: the headers are never read.
		{name: "no trusted proxies", peer: "10.1.2.3:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, client: "10.1.2.3", source: "peer"},
		{name: "spoofed XFF from an untrusted peer", trusted: lb, peer: "198.51.100.4:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, client: "198.51.100.4", source: "peer"},
		{name: "spoofed trusted XFF from an untrusted peer", trusted: lb, peer: "198.51.100.4:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9, 10.0.0.1"}}, client: "198.51.100.4", source: "peer"},
		{name: "spoofed Forwarded from an untrusted peer", trusted: lb, peer: "198.51.100.4:5000", hdr: [][2]string{{"Forwarded", "for=203.0.113.9"}}, client: "198.51.100.4", source: "peer"},
		{name: "untrusted IPv6 peer", trusted: lb, peer: "[2001:db8:ff::1]:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, client: "2001:db8:ff::1", source: "peer"},
		{name: "peer not an address", trusted: lb, peer: "@", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, client: "@", source: "peer"},
		{name: "trusted peer without headers", trusted: lb, peer: "10.0.0.1:5000", client: "10.0.0.1", source: "peer"},

		// X-Forwarded-For through trusted peers.
		{name: "XFF one hop", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF client-supplied prefix is skipped", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "1.1.1.1, 203.0.113.9"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF chain of trusted hops", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "6.6.6.6, 203.0.113.9,10.9.9.9 , 192.0.2.7"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF spoofed trusted hop on the left is not reached", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "10.0.0.5, 203.0.113.9"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF every hop trusted: leftmost", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "10.0.0.3, 10.0.0.2"}}, client: "10.0.0.3", source: "x-forwarded-for"},
		{name: "XFF several header lines", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "203.0.113.9, 10.0.0.2"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF IPv6", trusted: lb, peer: "[2001:db8:1b::1]:443", hdr: [][2]string{{"X-Forwarded-For", "2001:db8:c::42, 2001:db8:1b::9"}}, client: "2001:db8:c::42", source: "x-forwarded-for"},
		{name: "XFF ports and brackets", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "[2001:db8:c::42]:4711, 10.0.0.2:80"}}, client: "2001:db8:c::42", source: "x-forwarded-for"},
		{name: "XFF bracketed IPv6 without port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "[2001:db8:c::42]"}}, client: "2001:db8:c::42", source: "x-forwarded-for"},
		{name: "XFF IPv4 with port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9:51000"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF IPv4-mapped", trusted: lb, peer: "[::ffff:10.0.0.1]:5000", hdr: [][2]string{{"X-Forwarded-For", "::ffff:203.0.113.9, ::ffff:10.0.0.2"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF garbage keeps the peer", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "not-an-ip"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "XFF garbage behind the client is not reached", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "garbage, 203.0.113.9"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "XFF garbage between trusted hops stops the walk", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9, unknown, 10.0.0.2"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "XFF empty entry", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9,,"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "XFF empty value", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", ""}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "XFF zone", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "fe80::1%eth0"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "XFF CIDR is not an address", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.0/24"}}, client: "10.0.0.1", source: "peer", note: true},

		// Forwarded (RFC 7239).
		{name: "Forwarded simple", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=203.0.113.9"}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded case and parameters", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "proto=https; FOR=203.0.113.9;by=10.0.0.1;host=npm.example"}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded quoted IPv4 with port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="203.0.113.9:4711"`}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded IPv6 bracketed", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="[2001:db8:c::42]"`}}, client: "2001:db8:c::42", source: "forwarded"},
		{name: "Forwarded IPv6 with port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `For="[2001:db8:c::42]:4711"`}}, client: "2001:db8:c::42", source: "forwarded"},
		{name: "Forwarded obfuscated port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="203.0.113.9:_p1"`}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded quoted pair", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="203.0.113\.9"`}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded chain", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for=6.6.6.6, for=203.0.113.9;proto=https, for="[2001:db8:1b::3]:80"`}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded several lines", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=6.6.6.6"}, {"Forwarded", "for=203.0.113.9, for=10.0.0.2"}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded comma inside quotes", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for=203.0.113.9;host="a,b"`}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded unknown keeps the peer", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=unknown"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded obfuscated node keeps the peer", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=_hidden"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded unknown behind the client is not reached", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=unknown, for=203.0.113.9"}}, client: "203.0.113.9", source: "forwarded"},
		{name: "Forwarded element without for", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=203.0.113.9, proto=https"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded unquoted IPv6", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=2001:db8:c::42"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded quoted IPv6 without brackets", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="2001:db8:c::42"`}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded IPv4 in brackets", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="[203.0.113.9]"`}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded unterminated quote", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="203.0.113.9`}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded bad port", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", `for="203.0.113.9:99999"`}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded for twice in an element", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=6.6.6.6;for=203.0.113.9"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded trailing comma", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "for=203.0.113.9,"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "Forwarded garbage", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"Forwarded", "203.0.113.9"}}, client: "10.0.0.1", source: "peer", note: true},

		// Both headers: believed only when they agree.
		{name: "both agree", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9"}}, client: "203.0.113.9", source: "x-forwarded-for"},
		{name: "client spoofs Forwarded, balancer appends XFF", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=198.51.100.1"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "client spoofs XFF, balancer appends Forwarded", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "198.51.100.1"}, {"Forwarded", "for=203.0.113.9"}}, client: "10.0.0.1", source: "peer", note: true},
		{name: "garbage Forwarded next to a good XFF", trusted: lb, peer: "10.0.0.1:5000", hdr: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for"}}, client: "10.0.0.1", source: "peer", note: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/debug/-/debug-4.4.2.tgz", nil)
			r.RemoteAddr = tc.peer
			for _, h := range tc.hdr {
				r.Header.Add(h[0], h[1])
			}
			got := tc.trusted.resolve(r)
			if got.Client != tc.client || got.Source != tc.source || (got.Note != "") != tc.note {
				t.Errorf("resolve = %+v; want client %s from %s (note %v)", got, tc.client, tc.source, tc.note)
			}
			if wantPeer, _, _ := strings.Cut(strings.TrimPrefix(tc.peer, "["), "]"); !strings.HasPrefix(tc.peer, "[") && got.Peer != strings.Split(tc.peer, ":")[0] || strings.HasPrefix(tc.peer, "[") && got.Peer != wantPeer {
				t.Errorf("peer %q from %q", got.Peer, tc.peer)
			}
		})
	}
}

// A chain longer than maxHops is read from the right; a walk that would go
// past the hops kept keeps the peer rather than trusting what lies beyond.
func TestResolveClientLongChains(t *testing.T) {
	lb := testTrusted(t, "10.0.0.0/8")
	req := func(name, value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		r.Header.Set(name, value)
		return r
	}
	padding := strings.Repeat("6.6.6.6, ", 100000)
	if got := lb.resolve(req("X-Forwarded-For", padding+"203.0.113.9, 10.0.0.2")); got.Client != "203.0.113.9" {
		t.Errorf("long XFF: %+v", got)
	}
	if got := lb.resolve(req("Forwarded", strings.Repeat("for=6.6.6.6, ", 100000)+"for=203.0.113.9")); got.Client != "203.0.113.9" {
		t.Errorf("long Forwarded: %+v", got)
	}
	trustedHops := strings.TrimSuffix(strings.Repeat("10.0.0.2, ", maxHops+1), ", ")
	if got := lb.resolve(req("X-Forwarded-For", "203.0.113.9, "+trustedHops)); got.Client != "10.0.0.1" || got.Note == "" {
		t.Errorf("more trusted hops than kept: %+v", got)
	}
	if got := lb.resolve(req("X-Forwarded-For", strings.TrimSuffix(strings.Repeat("10.0.0.2, ", maxHops), ", "))); got.Client != "10.0.0.2" {
		t.Errorf("maxHops trusted hops: %+v", got)
	}
	fwdHops := strings.TrimSuffix(strings.Repeat("for=10.0.0.2, ", maxHops+1), ", ")
	if got := lb.resolve(req("Forwarded", "for=203.0.113.9, "+fwdHops)); got.Client != "10.0.0.1" || got.Note == "" {
		t.Errorf("more trusted Forwarded hops than kept: %+v", got)
	}
}

// A download through a trusted balancer is recorded under the client the
// balancer forwards; the same headers from an untrusted peer are not
// believed.
func TestTarballRecordsForwardedClient(t *testing.T) {
	st := startStack(t, stackOptions{trustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if resp, body := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz", "X-Forwarded-For", "198.51.100.1, 203.0.113.9"); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if resp, _ := st.get(t, "GET", "/debug/-/debug-4.4.1.tgz", "Forwarded", `for="[2001:db8::42]:4711";proto=http`); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	untrusted := startStack(t, stackOptions{trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if resp, _ := untrusted.get(t, "GET", "/debug/-/debug-4.4.1.tgz", "X-Forwarded-For", "203.0.113.9"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	recs := st.records.all()
	if len(recs) != 2 || recs[0].Client != "203.0.113.9" || recs[1].Client != "2001:db8::42" {
		t.Errorf("records through a trusted peer: %+v", recs)
	}
	if recs := untrusted.records.all(); len(recs) != 1 || recs[0].Client != "127.0.0.1" {
		t.Errorf("records through an untrusted peer: %+v", recs)
	}
}

// FuzzForwardedHeaders: the header parsers never panic, and an address
// they resolve to is one the header spells (never the trusted peer's,
// never invented).
func FuzzForwardedHeaders(f *testing.F) {
	for _, s := range []string{
		"203.0.113.9", "1.1.1.1, 203.0.113.9, 10.0.0.2", "[2001:db8::1]:80", "::ffff:10.0.0.1", ",,", "",
		`for=203.0.113.9`, `for="[2001:db8:c::42]:4711";proto=https, for=10.0.0.2`, `for="a\"b", for=unknown`,
		`for=_x;by=_y, For="203.0.113.9:_p"`, `for="`, `for=1.2.3.4;;`, "for=\"\\\x7f\"",
	} {
		f.Add(s)
	}
	lb := testTrusted(f, "10.0.0.0/8", "2001:db8:1b::/48")
	f.Fuzz(func(t *testing.T, h string) {
		for _, name := range []string{"X-Forwarded-For", "Forwarded"} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:1"
			r.Header.Set(name, h)
			got := lb.resolve(r)
			if got.Peer != "10.0.0.1" {
				t.Fatalf("peer %q", got.Peer)
			}
			if got.Source == "peer" {
				if got.Client != got.Peer {
					t.Fatalf("client %q from the peer %q", got.Client, got.Peer)
				}
				continue
			}
			a, err := netip.ParseAddr(got.Client)
			if err != nil || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("client %q is not a plain address", got.Client)
			}
		}
		if chain, ok := parseForwarded(h); ok && len(chain) > maxHops {
			t.Fatalf("%d hops kept", len(chain))
		}
		if chain := forwardedForChain(h); len(chain) > maxHops+1 || len(chain) == 0 {
			t.Fatalf("%d XFF hops", len(chain))
		}
	})
}
