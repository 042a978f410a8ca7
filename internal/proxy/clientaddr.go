package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Behind a load balancer or an ingress every connection comes from the
// balancer, and the address a download record needs (the machine that
// fetched the tarball) is in a header the balancer adds. The headers are
// believed only when the immediate peer is a trusted proxy
// (Options.TrustedProxies); from anyone else they are ignored, so a
// client cannot choose the address it is recorded under.
//
// With a trusted peer the chain is walked from the right (the hop the
// peer itself saw) to the left, skipping trusted hops: the first address
// that is not a trusted proxy is the client. An entry that is not an
// address (garbage, "unknown", an obfuscated identifier) stops the walk
// and the peer is kept: nothing behind it can be vouched for. When every
// hop is trusted, the leftmost one is the client.
//
// X-Forwarded-For and Forwarded (RFC 7239) are both read. A balancer
// adds to one of them and passes the other through from the client
// unchanged, so when both are sent and name different clients the peer
// is kept: believing either could mean believing the client.

// clientAddr is how a request's client was resolved.
type clientAddr struct {
	// Client is the address recorded; Peer the connection's remote
	// address (without port). They differ only when a trusted peer
	// forwarded the request.
	Client, Peer string
	// Source says where Client came from: "peer", "x-forwarded-for" or
	// "forwarded"; Note why a trusted peer's headers were not used
	// ("" when they were, or when there were none).
	Source, Note string
}

// trustedProxies is the set of peers whose forwarding headers are
// believed. The zero value trusts nobody.
type trustedProxies []netip.Prefix

func newTrustedProxies(ps []netip.Prefix) trustedProxies {
	out := make(trustedProxies, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

func (t trustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolve finds the client of r.
func (t trustedProxies) resolve(r *http.Request) clientAddr {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	out := clientAddr{Client: peer, Peer: peer, Source: "peer"}
	if len(t) == 0 {
		return out
	}
	pa, err := netip.ParseAddr(peer)
	if err != nil || !t.contains(pa.Unmap()) {
		return out
	}
	xff := r.Header.Values("X-Forwarded-For")
	fwd := r.Header.Values("Forwarded")
	var (
		xffAddr, fwdAddr netip.Addr
		xffOK, fwdOK     bool
	)
	if len(xff) > 0 {
		xffAddr, xffOK = t.walk(forwardedForChain(strings.Join(xff, ",")))
		if !xffOK {
			out.Note = "malformed X-Forwarded-For"
			return out
		}
	}
	if len(fwd) > 0 {
		chain, ok := parseForwarded(strings.Join(fwd, ","))
		if ok {
			fwdAddr, fwdOK = t.walk(chain)
		}
		if !fwdOK {
			out.Note = "malformed Forwarded"
			return out
		}
	}
	switch {
	case xffOK && fwdOK && xffAddr != fwdAddr:
		out.Note = "X-Forwarded-For and Forwarded disagree"
	case xffOK:
		out.Client, out.Source = xffAddr.String(), "x-forwarded-for"
	case fwdOK:
		out.Client, out.Source = fwdAddr.String(), "forwarded"
	}
	return out
}

// walk finds the client in a chain of hops, left to right as sent; each
// is an address or invalid (an entry that is not one). ok is false when
// the chain is empty or the walk met an invalid hop.
func (t trustedProxies) walk(chain []netip.Addr) (netip.Addr, bool) {
	for i := len(chain) - 1; i >= 0; i-- {
		a := chain[i]
		if !a.IsValid() {
			return netip.Addr{}, false
		}
		if !t.contains(a) || i == 0 {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// maxHops bounds the hops read from a forwarding header: a walk that has
// not found the client this far from the peer keeps the peer.
const maxHops = 64

// forwardedForChain splits X-Forwarded-For into addresses, keeping only
// the last maxHops (the walk starts at the right), with an invalid
// address for an entry that is not one. Too long a chain starts with an
// invalid entry: the walk may not reach past it.
func forwardedForChain(h string) []netip.Addr {
	var rev []netip.Addr // right to left
	for {
		j := strings.LastIndexByte(h, ',')
		if len(rev) == maxHops {
			rev = append(rev, netip.Addr{})
			break
		}
		a, _ := parseForwardedForEntry(strings.TrimSpace(h[j+1:]))
		rev = append(rev, a)
		if j < 0 {
			break
		}
		h = h[:j]
	}
	slices.Reverse(rev)
	return rev
}

// parseForwardedForEntry reads one X-Forwarded-For entry: an IPv4 or IPv6
// address, optionally with a port ("192.0.2.1:4711", "[2001:db8::1]:4711")
// or IPv6 in brackets without one, as some balancers write them.
func parseForwardedForEntry(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return cleanAddr(a)
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return cleanAddr(ap.Addr())
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return cleanAddr(a)
		}
	}
	return netip.Addr{}, false
}

// cleanAddr unmaps an IPv4-mapped address and refuses one with a zone:
// a zone names an interface of the machine that wrote it, not a client.
func cleanAddr(a netip.Addr) (netip.Addr, bool) {
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseForwarded reads the for= parameters of a Forwarded header
// (RFC 7239 section 4) into a chain, one hop per element, left to right;
// an element without for=, or whose node is "unknown" or obfuscated, is
// an invalid hop. Only the last maxHops elements are kept, as in
// forwardedForChain. ok is false when the header does not parse.
func parseForwarded(h string) (chain []netip.Addr, ok bool) {
	i := 0
	for {
		var (
			hop             netip.Addr
			sawFor, invalid bool
		)
		// One element: pairs separated by ';'.
		for {
			i = skipOWS(h, i)
			start := i
			for i < len(h) && isTchar(h[i]) {
				i++
			}
			name := h[start:i]
			if name == "" || i >= len(h) || h[i] != '=' {
				return nil, false
			}
			i++
			var value string
			if i < len(h) && h[i] == '"' {
				value, i, ok = readQuoted(h, i)
				if !ok {
					return nil, false
				}
			} else {
				start := i
				for i < len(h) && isTchar(h[i]) {
					i++
				}
				value = h[start:i]
				if value == "" {
					return nil, false
				}
			}
			if strings.EqualFold(name, "for") {
				if sawFor {
					invalid = true // a parameter name occurs once per element
				}
				sawFor = true
				if a, valid := parseForwardedNode(value); valid {
					hop = a
				} else {
					invalid = true
				}
			}
			i = skipOWS(h, i)
			if i < len(h) && h[i] == ';' {
				i++
				continue
			}
			break
		}
		if invalid || !sawFor {
			hop = netip.Addr{}
		}
		chain = append(chain, hop)
		if len(chain) > maxHops {
			chain[0] = netip.Addr{}
			copy(chain[1:], chain[2:])
			chain = chain[:maxHops]
		}
		if i >= len(h) {
			return chain, true
		}
		if h[i] != ',' {
			return nil, false
		}
		i++
	}
}

// parseForwardedNode reads a for= node (RFC 7239 section 6): an IPv4
// address or a bracketed IPv6 one, optionally with ":port"; "unknown"
// and obfuscated identifiers ("_hidden") are not addresses.
func parseForwardedNode(v string) (netip.Addr, bool) {
	var host, port string
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host, port = v[1:end], v[end+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || !validNodePort(port) {
			return netip.Addr{}, false
		}
		return cleanAddr(a)
	}
	host, port = v, ""
	if j := strings.IndexByte(v, ':'); j >= 0 {
		host, port = v[:j], v[j:]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() || !validNodePort(port) {
		return netip.Addr{}, false
	}
	return a, true
}

// validNodePort accepts "" or ":" followed by a port number or an
// obfuscated port ("_" and letters, digits, '.', '_', '-').
func validNodePort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) == 1 {
		return false
	}
	p = p[1:]
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(p) > 1
	}
	if len(p) > 5 {
		return false
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n <= 65535
}

// readQuoted reads a quoted-string starting at h[i] == '"', unescaping
// quoted pairs, and returns it with the index after the closing quote.
func readQuoted(h string, i int) (string, int, bool) {
	i++ // opening quote
	var b strings.Builder
	for i < len(h) {
		c := h[i]
		switch {
		case c == '"':
			return b.String(), i + 1, true
		case c == '\\':
			if i+1 >= len(h) || !isQuotedPairChar(h[i+1]) {
				return "", i, false
			}
			b.WriteByte(h[i+1])
			i += 2
		case c == '\t' || c == ' ' || c == '!' || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e || c >= 0x80:
			b.WriteByte(c)
			i++
		default:
			return "", i, false
		}
	}
	return "", i, false
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || c >= 0x21 && c <= 0x7e || c >= 0x80
}

func skipOWS(h string, i int) int {
	for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c is an RFC 7230 token character.
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
