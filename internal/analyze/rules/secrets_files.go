package rules

import (
	"regexp"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
)

// CredentialFiles catches code naming the files where secrets live.
var CredentialFiles = &Rule{
	ID:       "VGL-A051",
	Name:     "credential-files",
	Severity: High,
	Category: CatSecrets,
	Summary: "Strings name credential stores: ~/.npmrc, ~/.ssh keys, ~/.aws/credentials (low each); " +
		".git-credentials, /etc/passwd or /etc/shadow (medium); browser password and extension stores " +
		"(Chrome \"Login Data\", \"Local Extension Settings\") and wallets (Exodus, Electrum, MetaMask and " +
		"Phantom extension ids) (high). Three or more kinds in one file are high; a file an install script " +
		"runs is one step higher.",
	Why: "Stealers enumerate exactly these paths: registry tokens to publish as the victim, SSH and cloud keys " +
		"to move on, saved browser passwords and wallet vaults to empty.",
	FalsePositives: "npm tooling reads .npmrc (registry-auth-token, @npmcli/config), SSH clients read ~/.ssh, " +
		"AWS SDKs read ~/.aws/credentials: one kind alone is low.",
	Check: checkCredentialFiles,
}

// credKind is one kind of credential store. hints are lower-case words
// one of which every match contains: Go's regexp engine is slow on the
// hundreds of thousands of strings a large package holds, so the cheap
// test runs first.
type credKind struct {
	name  string
	sev   Severity
	re    *regexp.Regexp
	hints []string
}

var credKinds = []credKind{
	{".npmrc", Low, regexp.MustCompile(`\.npmrc\b`), []string{".npmrc"}},
	{"~/.ssh", Low, regexp.MustCompile(`(^|[/\\~])\.ssh([/\\]|$)|\bid_(rsa|ed25519|ecdsa)\b`), []string{".ssh", "id_"}},
	{"~/.aws/credentials", Low, regexp.MustCompile(`\.aws[/\\]credentials`), []string{"credentials"}},
	{".git-credentials", Medium, regexp.MustCompile(`\.git-credentials\b`), []string{"git-credentials"}},
	{"/etc/passwd", Medium, regexp.MustCompile(`^/etc/(passwd|shadow)$`), []string{"/etc/"}},
	{"browser password store", High, regexp.MustCompile(`(^|[/\\])Login Data$|Local Extension Settings`), []string{"login data", "extension settings"}},
	{"wallet store", High, regexp.MustCompile(`(?i)exodus\.wallet|[/\\]Exodus[/\\]|[/\\]\.?electrum[/\\]wallets|` +
		`nkbihfbeogaeaoehlefnkodbefgpgknn|bfnaelmomeimhlpmgjnjophhpkkoljpa`), []string{"exodus", "electrum", "nkbihfbeogaeaoehlefnkodbefgpgknn", "bfnaelmomeimhlpmgjnjophhpkkoljpa"}},
}

func (k credKind) matches(lower, s string) bool {
	for _, h := range k.hints {
		if strings.Contains(lower, h) {
			return k.re.MatchString(s)
		}
	}
	return false
}

func checkCredentialFiles(p *facts.Package) []Finding {
	var out []Finding
	jsFiles(p, func(f *facts.FileFacts) {
		found := map[string]bool{}
		var worst *Finding
		for _, s := range f.JS.Strings {
			lower := strings.ToLower(s.Value) // s.Value itself when it has no upper case
			for _, k := range credKinds {
				if found[k.name] || !k.matches(lower, s.Value) {
					continue
				}
				found[k.name] = true
				if worst == nil || k.sev.Rank() > worst.Severity.Rank() {
					fd := at(k.sev, f, s.Pos, "")
					worst = &fd
				}
			}
		}
		if worst == nil {
			return
		}
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		sev := worst.Severity
		if len(names) >= 3 {
			sev = High
		}
		worst.Severity = installBump(sev, f)
		where := ""
		if f.InstallTime {
			where = " in a file run at install time"
		}
		worst.Message = "names credential stores: " + strings.Join(names, ", ") + where
		out = append(out, *worst)
	})
	return out
}
