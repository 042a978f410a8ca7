package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// NetworkHook catches code that replaces the browser's network APIs.
var NetworkHook = &Rule{
	ID:       "VGL-A010",
	Name:     "browser-network-hook",
	Severity: Low,
	Category: CatNetworkHook,
	Summary: "Code replaces a browser network API — fetch, XMLHttpRequest or its prototype's open/send/" +
		"setRequestHeader, WebSocket or WebSocket.prototype.send, navigator.sendBeacon, EventSource, " +
		"Response.prototype.json/text — by assignment, Object.defineProperty, Object.assign or Reflect.set, " +
		"also through obfuscated property names.",
	Why: "Whoever owns fetch and XMLHttpRequest sees and can rewrite every request and response of the page: " +
		"the chalk/debug payload (September 2025) hooked both to swap crypto addresses in API responses. On its " +
		"own this is what polyfills and instrumentation do, so it is low; next to crypto-address data, wallet " +
		"hooks or obfuscation it makes a package malicious (see the verdict combinations).",
	FalsePositives: "Polyfills (whatwg-fetch, unfetch), mocking and instrumentation libraries (msw, " +
		"@mswjs/interceptors, fetch-mock, pretender, sinon, zone.js, OpenTelemetry, Sentry, Datadog RUM).",
	Check: checkNetworkHook,
}

var networkTargets = map[string]string{
	"fetch":                                       "fetch",
	"XMLHttpRequest":                              "XMLHttpRequest",
	"XMLHttpRequest.prototype":                    "XMLHttpRequest.prototype",
	"XMLHttpRequest.prototype.open":               "XMLHttpRequest.prototype.open",
	"XMLHttpRequest.prototype.send":               "XMLHttpRequest.prototype.send",
	"XMLHttpRequest.prototype.setRequestHeader":   "XMLHttpRequest.prototype.setRequestHeader",
	"XMLHttpRequest.prototype.onreadystatechange": "XMLHttpRequest.prototype.onreadystatechange",
	"WebSocket":                                   "WebSocket",
	"WebSocket.prototype.send":                    "WebSocket.prototype.send",
	"navigator.sendBeacon":                        "navigator.sendBeacon",
	"EventSource":                                 "EventSource",
	"Response.prototype.json":                     "Response.prototype.json",
	"Response.prototype.text":                     "Response.prototype.text",
}

func checkNetworkHook(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		seen := map[string]bool{}
		for _, a := range f.JS.Assigns {
			api, ok := networkTargets[a.Target]
			if !ok || seen[api] {
				continue
			}
			seen[api] = true
			how := "assigns"
			if a.Via != "=" {
				how = "redefines (" + a.Via + ")"
			}
			out = append(out, at(Low, f, a.Pos, "%s %s: the page's requests and responses pass through this code%s", how, api, decodedNote(a.NameOrigin)))
		}
	})
	return out
}
