package analyze

import (
	"fmt"
	"sort"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// Scoring is deliberately simple enough to recompute by hand (see
// docs/detection.md):
//
//  1. Each rule that fired adds the weight of its most severe finding —
//     once per package, however often it fired, because a hundred
//     polyfilled fetches are not more evidence than one.
//  2. Each combination whose categories meet in one file adds its bonus:
//     behaviours that are common alone are damning together.
//  3. The total maps to a verdict: SuspiciousAt and MaliciousAt.
//
// A single critical finding is malicious on its own; a single high one is
// suspicious; two medium findings stay clean, three reach suspicious; no
// number of low and medium findings without a high one or a combination
// reaches malicious before ten rules agree.
//
// Worm, payload and dynamic-loading findings follow the same rules: the
// steps release tooling shares with worms (npm publish, whoami, creating
// a GitHub repository, writing a workflow) are low or medium alone, so a
// release tool stays clean; what makes a worm malicious is a worm step
// in a file run at install time (the rules report critical there, and
// install-time-worm adds its bonus) or next to credential harvesting or
// an exfiltration endpoint (worm-with-secrets, worm-exfiltration). A
// native binary, like decoded or downloaded code, becomes damning when
// install-time code runs it or the network feeds it
// (install-time-binary, remote-code-loader).

// Weights are the points of one rule's most severe finding.
var Weights = map[rules.Severity]int{
	rules.Info:     0,
	rules.Low:      1,
	rules.Medium:   4,
	rules.High:     12,
	rules.Critical: 40,
}

// Verdict thresholds.
const (
	SuspiciousAt = 12
	MaliciousAt  = 40
)

// VerdictFor maps a score to a verdict.
func VerdictFor(score int) Verdict {
	switch {
	case score >= MaliciousAt:
		return Malicious
	case score >= SuspiciousAt:
		return Suspicious
	}
	return Clean
}

// Combination is a set of behaviours that weigh more together.
type Combination struct {
	Name   string
	Points int
	Why    string
	// All lists groups that must each have a finding in the same file.
	All []Group
	// InstallTime: the file must also be run by an install script.
	InstallTime bool
}

// Group is satisfied by a finding of one of its categories with at least
// the minimum severity. Minimums keep weak signals (a high-entropy line,
// two chains' address patterns in a validator) from completing a
// combination on their own.
type Group struct {
	Cats []rules.Category
	Min  rules.Severity
}

func group(min rules.Severity, cats ...rules.Category) Group { return Group{Cats: cats, Min: min} }

var (
	anyHook     = group(rules.Low, rules.CatNetworkHook, rules.CatWalletHook)
	walletHook  = group(rules.High, rules.CatWalletHook)
	networkHook = group(rules.Low, rules.CatNetworkHook)
	cryptoData  = group(rules.Medium, rules.CatCryptoData, rules.CatAddressSwap)
	addressSwap = group(rules.High, rules.CatAddressSwap)
	obfuscated  = group(rules.Medium, rules.CatObfuscation)
	decodeExec  = group(rules.High, rules.CatDecodeExec)
	// exfil is a known data-collection endpoint or DNS exfiltration: the
	// network rules report high only for those (and for raw IPs at
	// install time).
	exfil       = group(rules.High, rules.CatNetwork)
	anyNetwork  = group(rules.Low, rules.CatNetwork)
	secrets     = group(rules.Medium, rules.CatSecrets)
	hardSecrets = group(rules.High, rules.CatSecrets)
	// worm steps: medium is a concrete step (publishing, creating a
	// repository, writing a workflow); low ones (a token's name, a version
	// bump) never complete a combination.
	worm = group(rules.Medium, rules.CatWorm)
	// payloadExec is a native binary an install-time file runs (VGL-A080
	// reports high only then, at the file that names it).
	payloadExec = group(rules.High, rules.CatPayload)
	anyExec     = group(rules.Low, rules.CatExec)
	// hiddenCode is code compiled or loaded from text decoded at run time
	// (or from a fixed URL): the high findings of the dynamic-code and
	// decode-exec rules.
	hiddenCode = group(rules.High, rules.CatDynamicCode, rules.CatDecodeExec)
)

// Combinations, in report order.
var Combinations = []Combination{
	{
		Name: "wallet-drainer", Points: 60,
		Why: "wraps the page's wallet provider and carries crypto addresses, address patterns, look-alike " +
			"selection or approval selectors: the shape of a wallet drainer",
		All: []Group{walletHook, cryptoData},
	},
	{
		Name: "response-tampering", Points: 60,
		Why: "hooks the page's network APIs and picks look-alike crypto addresses: the shape of an address " +
			"swapper rewriting what the page receives",
		All: []Group{networkHook, addressSwap},
	},
	{
		Name: "hook-with-crypto-data", Points: 30,
		Why: "hooks the page's network APIs in a file that carries crypto addresses, address patterns or " +
			"approval selectors",
		All: []Group{networkHook, cryptoData},
	},
	{
		Name: "obfuscated-address-swapper", Points: 30,
		Why: "picks look-alike crypto addresses inside obfuscated code",
		All: []Group{addressSwap, obfuscated},
	},
	{
		Name: "obfuscated-hook", Points: 20,
		Why: "obfuscated code that hooks the page's network or wallet APIs",
		All: []Group{anyHook, obfuscated},
	},
	{
		Name: "obfuscated-loader", Points: 20,
		Why: "obfuscated code that decodes a string and executes it",
		All: []Group{decodeExec, obfuscated},
	},
	{
		Name: "install-time-payload", Points: 30,
		Why: "a file run by an install script is obfuscated or decodes and executes code",
		All: []Group{group(rules.Medium, rules.CatObfuscation, rules.CatDecodeExec)}, InstallTime: true,
	},
	{
		Name: "secrets-exfiltration", Points: 40,
		Why: "collects secrets (the serialised environment, credential files, cloud metadata, a secret scanner) " +
			"in a file that names a data-collection endpoint, leaks data through DNS or, at install time, connects to a raw IP address: the shape of a credential stealer",
		All: []Group{secrets, exfil},
	},
	{
		Name: "install-time-secrets-to-network", Points: 30,
		Why: "a file run by an install script serialises the environment, reads browser or wallet stores or runs " +
			"a secret scanner, and talks to the network: credentials leave before the package is ever imported",
		All: []Group{hardSecrets, anyNetwork}, InstallTime: true,
	},
	{
		Name: "worm-with-secrets", Points: 40,
		Why: "publishes packages, rewrites manifests or drives the GitHub API in a file that also harvests " +
			"credentials (tokens, credential files, a secret scanner): the shape of a self-propagating worm " +
			"such as Shai-Hulud",
		All: []Group{worm, secrets},
	},
	{
		Name: "worm-exfiltration", Points: 30,
		Why: "a worm step (publishing, repository creation, a workflow or runner) in a file that names a " +
			"data-collection endpoint or leaks data through DNS",
		All: []Group{worm, exfil},
	},
	{
		Name: "install-time-worm", Points: 20,
		Why: "a file run by an install script publishes packages, rewrites manifests, creates repositories, " +
			"workflows or runners: release tooling never does this while being installed",
		All: []Group{worm}, InstallTime: true,
	},
	{
		Name: "install-time-binary", Points: 30,
		Why: "a file run by an install script starts a native binary the package gives no reason to carry: " +
			"a dropped payload",
		All: []Group{payloadExec, anyExec}, InstallTime: true,
	},
	{
		Name: "remote-code-loader", Points: 30,
		Why: "compiles or loads code decoded at run time (or fetched from a fixed URL) in a file that talks to " +
			"the network: a loader fetching its next stage",
		All: []Group{hiddenCode, anyNetwork},
	},
}

// Score adds up rule weights and combination bonuses.
func Score(p *facts.Package, findings []Finding) (int, []Reason) {
	var reasons []Reason
	total := 0

	// 1. Each rule once, at its highest severity.
	best := map[string]Finding{}
	var order []string
	for _, f := range findings {
		b, ok := best[f.Rule]
		if !ok {
			order = append(order, f.Rule)
		}
		if !ok || f.Severity.Rank() > b.Severity.Rank() {
			best[f.Rule] = f
		}
	}
	sort.Strings(order)
	for _, id := range order {
		f := best[id]
		w := Weights[f.Severity]
		total += w
		reasons = append(reasons, Reason{Source: f.Rule + " " + f.Name, Points: w, Why: fmt.Sprintf("%s: %s", f.Severity, f.Message)})
	}

	// 2. Combinations, per file.
	// The most severe finding of each category, per file.
	byFile := map[string]map[rules.Category]rules.Severity{}
	for _, f := range findings {
		if f.File == "" || f.File == "package.json" {
			continue
		}
		if byFile[f.File] == nil {
			byFile[f.File] = map[rules.Category]rules.Severity{}
		}
		if f.Severity.Rank() > byFile[f.File][f.Category].Rank() {
			byFile[f.File][f.Category] = f.Severity
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, c := range Combinations {
		for _, name := range files {
			if !c.matches(byFile[name]) {
				continue
			}
			if c.InstallTime {
				ff := p.File(name)
				if ff == nil || !ff.InstallTime {
					continue
				}
			}
			total += c.Points
			reasons = append(reasons, Reason{Source: "combination " + c.Name, Points: c.Points, Why: c.Why, File: name})
			break
		}
	}
	return total, reasons
}

func (c Combination) matches(cats map[rules.Category]rules.Severity) bool {
	for _, g := range c.All {
		ok := false
		for _, cat := range g.Cats {
			if sev, found := cats[cat]; found && sev.Rank() >= g.Min.Rank() {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
