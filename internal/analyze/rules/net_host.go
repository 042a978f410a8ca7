package rules

import (
	"net"
	"net/url"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// NetworkHost catches connections to hosts written into the code.
var NetworkHost = &Rule{
	ID:       "VGL-A040",
	Name:     "network-hardcoded-host",
	Severity: High,
	Category: CatNetwork,
	Summary: "http/https get/request, net/tls connect, fetch or new WebSocket called with a constant URL or " +
		"host. A host name is low; a raw public IP address is medium, high in a file an install script runs. " +
		"Loopback and private addresses are ignored.",
	Why: "Where code sends data is usually configuration; a destination fixed in the code, above all a bare IP " +
		"address with no name to look up or revoke, is where stolen data and second stages usually go.",
	FalsePositives: "API clients and installers that fetch from their own service (registry.npmjs.org, " +
		"github.com release downloads) are low; public IPs in code are rare outside DNS and NTP tools.",
	Check: checkNetworkHost,
}

// netCall reports whether a call opens a network connection and which
// argument names the destination.
func netCall(c *js.Call) (name string, ok bool) {
	callee := c.Callee
	switch callee {
	case "fetch":
		return "fetch", true
	case "WebSocket":
		return "WebSocket", c.New
	}
	for _, mod := range []string{"http", "https", "net", "tls", "http2"} {
		for _, pre := range []string{"require('" + mod + "').", "require('node:" + mod + "')."} {
			if m, found := strings.CutPrefix(callee, pre); found {
				switch m {
				case "get", "request", "connect", "createConnection", "Socket":
					return mod + "." + m, true
				}
			}
		}
	}
	return "", false
}

// hostOf returns the host a URL or host string names, or "".
func hostOf(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}
	if strings.ContainsAny(s, "/ ") || !strings.Contains(s, ".") {
		return ""
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// publicIP reports whether host is a literal, routable IP address.
func publicIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast() &&
		!ip.IsMulticast()
}

func localHost(host string) bool {
	h := strings.ToLower(host)
	return h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") ||
		strings.HasSuffix(h, ".test") || strings.HasSuffix(h, ".example") || strings.HasSuffix(h, "example.com") ||
		(net.ParseIP(h) != nil && !publicIP(h))
}

func checkNetworkHost(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		var best *Finding
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			name, ok := netCall(c)
			if !ok || c.Arg(0).Kind != js.KindString {
				continue
			}
			host := hostOf(c.Arg(0).Str)
			if localHost(host) {
				continue
			}
			sev, what := Low, "host "+Sanitize(host, 80)
			if publicIP(host) {
				sev, what = Medium, "the raw IP address "+host
				if f.InstallTime {
					sev = High
				}
			}
			if best == nil || sev.Rank() > best.Severity.Rank() {
				fd := at(sev, f, c.Pos, "%s connects to %s fixed in the code", name, what)
				best = &fd
			}
		}
		if best != nil {
			out = append(out, *best)
		}
	})
	return out
}
