package rules

import (
	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// InstallDownload catches install scripts that fetch code from the
// network and run it.
var InstallDownload = &Rule{
	ID:       "VGL-A002",
	Name:     "install-script-download",
	Severity: Critical,
	Category: CatInstall,
	Summary: "A lifecycle script downloads and executes code: curl/wget/iwr piped or substituted into a shell or " +
		"interpreter, PowerShell -EncodedCommand or DownloadString/IEX, certutil/bitsadmin/mshta downloads, or a " +
		"Bun bootstrap (bun.sh/install) — critical; a plain download of a URL (curl -o, wget) — high.",
	Why: "Code fetched at install time is not in the tarball that was reviewed, scanned or pinned by integrity: " +
		"the server decides what runs, per victim, and can change it at any time.",
	FalsePositives: "Rare: a few packages download prebuilt binaries with curl in a script; they are reported " +
		"high, not critical, unless the download is piped into an interpreter.",
	Check: checkInstallDownload,
}

func checkInstallDownload(p *facts.Package) []Finding {
	var out []Finding
	for _, s := range p.Manifest.Scripts {
		if !facts.IsLifecycle(s.Name) || s.Implicit {
			continue
		}
		c := s.Command
		var what string
		sev := Critical
		switch {
		case bunInstall.MatchString(c):
			what = "bootstraps the Bun runtime from bun.sh and runs code with it"
		case pipeToShell.MatchString(c) || substShell.MatchString(c):
			what = "downloads code and pipes it into an interpreter"
		case encodedPS.MatchString(c):
			what = "runs an encoded PowerShell command"
		case psDownload.MatchString(c):
			what = "downloads or decodes and runs PowerShell code"
		case lolbins.MatchString(c):
			what = "downloads with a Windows system binary (certutil, bitsadmin, mshta, regsvr32)"
		case download.MatchString(c):
			sev, what = High, "downloads "+urlInScript.FindString(c)
		default:
			continue
		}
		out = append(out, inManifest(sev, s.Line, s.Name+": "+s.Command, "%s script %s", s.Name, what))
	}
	return out
}
