package rules

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// ExfilEndpoint catches services that receive stolen data.
var ExfilEndpoint = &Rule{
	ID:       "VGL-A041",
	Name:     "exfiltration-endpoint",
	Severity: High,
	Category: CatNetwork,
	Summary: "A string names a service used to collect stolen data or to call home: webhook.site, Discord " +
		"webhooks, the Telegram bot API, pastebin.com/raw, hastebin, out-of-band testing domains (*.oast.*, " +
		"interact.sh, burpcollaborator.net, oastify.com), requestbin; tunnel domains (ngrok, pipedream.net) only inside a URL.",
	Why: "These services accept anonymous writes and hand the data to whoever holds the link: no library needs " +
		"them to work, and they are the usual destination of npm credential stealers and dependency-confusion probes.",
	FalsePositives: "Clients of these services themselves (Discord and Telegram bot libraries, the ngrok " +
		"wrapper, webhook testing tools) name them by design. Bare tunnel domains in Public Suffix List copies " +
		"(psl, tough-cookie) are not reported.",
	Check: checkExfilEndpoint,
}

// exfilHosts are endpoints with no other use; tunnelHosts are domains
// under which anyone gets a sub-domain, so they also appear as bare
// entries of the Public Suffix List (psl, tough-cookie): those count only
// inside a URL.
var (
	exfilHosts = regexp.MustCompile(`(?i)(webhook\.site|discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot|` +
		`pastebin\.com/raw|hastebin\.(?:com|skyra\.pw)|\binteract\.sh\b|burpcollaborator\.net|oastify\.com|` +
		`requestbin\.(?:com|net))`)
	tunnelHosts = regexp.MustCompile(`(?i)://[^/\s'"]*?(\.oast\.(?:fun|me|site|online|pro|live)\b|ngrok\.io\b|ngrok-free\.app\b|` +
		`ngrok\.app\b|pipedream\.net\b)`)
)

func checkExfilEndpoint(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		for _, s := range f.JS.Strings {
			if !mayNameEndpoint(s.Value) {
				continue
			}
			m := exfilHosts.FindString(s.Value)
			if m == "" && strings.Contains(s.Value, "://") {
				if sm := tunnelHosts.FindStringSubmatch(s.Value); sm != nil {
					m = sm[1]
				}
			}
			if m != "" {
				out = append(out, at(High, f, s.Pos, "names the data-collection endpoint %s%s", Sanitize(m, 60), decodedNote(s.Origin)))
				return
			}
		}
	})
	return out
}

// endpointTokens holds a lower-case word of every pattern above. Go's
// regexp engine is slow on the hundreds of thousands of strings a large
// package holds, so strings without any of these words skip it.
var endpointTokens = []string{"webhook", "discord", "telegram", "pastebin", "hastebin", "interact", "burpcollaborator",
	"oastify", "requestbin", ".oast.", "ngrok", "pipedream"}

func mayNameEndpoint(s string) bool {
	if strings.IndexByte(s, '.') < 0 {
		return false
	}
	l := strings.ToLower(s) // returns s itself when it has no upper case
	for _, t := range endpointTokens {
		if strings.Contains(l, t) {
			return true
		}
	}
	return false
}
