package rules

import "testing"

func TestEnvSerialise(t *testing.T) {
	runCases(t, EnvSerialise, []ruleCase{
		{"stringify", one("a.js", `const body = JSON.stringify(process.env)`), Medium, "JSON.stringify(process.env)"},
		{"stringify at install", installPkg(`https.request(o).end(JSON.stringify(process.env))`), High, "install time"},
		{"entries", one("a.js", `for (const [k, v] of Object.entries(process.env)) send(k, v)`), Low, "Object.entries"},
		{"entries at install", installPkg(`Object.values(process.env).join()`), Medium, "Object.values"},
		{"keys", one("a.js", `Object.keys(process.env).filter(k => /^debug_/i.test(k))`), "", ""},
		{"single variable", one("a.js", `JSON.stringify(process.env.NODE_ENV)`), "", ""},
		{"child env", one("a.js", `spawn(cmd, {env: {...process.env, FORCE_COLOR: '1'}})`), "", ""},
	})
}

func TestCredentialFiles(t *testing.T) {
	runCases(t, CredentialFiles, []ruleCase{
		{"npmrc", one("a.js", `path.join(os.homedir(), '.npmrc')`), Low, ".npmrc"},
		{"ssh", one("a.js", `const p = '~/.ssh/id_rsa'`), Low, "~/.ssh"},
		{"git credentials", one("a.js", `read(home + '/.git-credentials')`), Medium, ".git-credentials"},
		{"passwd", one("a.js", `fs.readFileSync('/etc/passwd')`), Medium, "/etc/passwd"},
		{"chrome", one("a.js", `path.join(profile, 'Login Data')`), High, "browser password store"},
		{"extension settings", one("a.js", `const d = 'Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn'`), High, "wallet store"},
		{"exodus", one("a.js", `const w = home + '/AppData/Roaming/Exodus/exodus.wallet'`), High, "wallet store"},
		{"three kinds", one("a.js", `['.npmrc', '.aws/credentials', '.ssh/']`), High, ".npmrc, ~/.aws/credentials, ~/.ssh"},
		{"install time", installPkg(`fs.readFileSync(os.homedir() + '/.npmrc')`), Medium, "install time"},
		{"login ui text", one("a.js", `label('Save Login Data?')`), "", ""},
		{"sshpk word", one("a.js", `const s = 'sshd config'`), "", ""},
		{"nothing", one("a.js", `fs.readFileSync('./package.json')`), "", ""},
	})
}

func TestCloudMetadata(t *testing.T) {
	runCases(t, CloudMetadata, []ruleCase{
		{"aws", one("a.js", `fetch('http://169.254.169.254/latest/meta-data/iam/security-credentials/')`), Medium, "169.254.169.254"},
		{"gcp", one("a.js", `const h = 'metadata.google.internal'`), Medium, "metadata.google.internal"},
		{"at install", installPkg(`require('http').get('http://169.254.169.254/latest/')`), High, "install time"},
		{"other link-local", one("a.js", `const ip = '169.254.1.1'`), "", ""},
	})
}

func TestSecretScanner(t *testing.T) {
	runCases(t, SecretScanner, []ruleCase{
		{"gh auth token", one("a.js", `require('child_process').execSync('gh auth token')`), High, "gh auth token"},
		{"trufflehog", one("a.js", `const {spawn} = require('child_process'); spawn(bin, ['filesystem', home]); const n = 'trufflehog'`), High, "trufflehog"},
		{"mention only", one("a.js", `console.log('scan your repo with TruffleHog')`), Low, "TruffleHog"},
		{"gh other command", one("a.js", `require('child_process').execSync('gh auth status')`), "", ""},
	})
}
