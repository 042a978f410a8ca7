package rules

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// DNSExfil catches machine identity smuggled out in DNS names.
var DNSExfil = &Rule{
	ID:       "VGL-A042",
	Name:     "dns-exfiltration",
	Severity: High,
	Category: CatNetwork,
	Summary: "A file reads the machine's identity (os.hostname, os.userInfo) and resolves a name computed at " +
		"run time (dns.lookup/resolve*) next to a constant domain suffix such as \".x.oast.fun\": the identity " +
		"is sent out as a DNS label.",
	Why: "DNS queries leave networks that block everything else; dependency-confusion probes and stealers encode " +
		"hostname, user and path into labels of a domain whose name server they control.",
	FalsePositives: "Mail and service-discovery libraries resolve computed names and use os.hostname (e.g. for " +
		"an SMTP greeting); the rule needs a constant \".domain.tld\" suffix in the same file, which they rarely hold.",
	Check: checkDNSExfil,
}

var dnsSuffix = regexp.MustCompile(`^\.[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+\.?$`)

func checkDNSExfil(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		identity := ""
		var dnsCall *js.Call
		for i := range f.JS.Calls {
			c := &f.JS.Calls[i]
			switch strings.Replace(c.Callee, "node:os", "os", 1) {
			case "require('os').hostname", "require('os').userInfo":
				identity = c.Callee[strings.LastIndexByte(c.Callee, '.')+1:]
			}
			if strings.HasPrefix(c.Callee, "require('dns').") || strings.HasPrefix(c.Callee, "require('node:dns').") {
				m := c.Callee[strings.LastIndexByte(c.Callee, '.')+1:]
				if (m == "lookup" || strings.HasPrefix(m, "resolve")) && c.Arg(0).Kind != js.KindString && dnsCall == nil {
					dnsCall = c
				}
			}
		}
		if identity == "" || dnsCall == nil {
			return
		}
		for _, s := range f.JS.Strings {
			if dnsSuffix.MatchString(s.Value) {
				out = append(out, at(High, f, dnsCall.Pos, "resolves a name computed at run time under %s in a file that reads os.%s",
					Sanitize(s.Value, 60), identity))
				return
			}
		}
	})
	return out
}
