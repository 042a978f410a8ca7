// Package rules holds Vigil's analysis rules. Each rule is a small file:
// its metadata (id, name, category, the highest severity it reports, what
// it catches, why that matters, its known false positives) and a pure
// function from a package's facts to findings. Rules never read files,
// never run code and never look at each other; combining findings into a
// verdict is package analyze's job.
package rules

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/js"
)

// Severity is how much one finding weighs on its own.
type Severity string

const (
	Info     Severity = "info"
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Rank orders severities: info < low < medium < high < critical.
func (s Severity) Rank() int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 4
	}
	return 0
}

// Category groups rules by the behaviour they detect; verdict
// combinations are written over categories.
type Category string

const (
	CatInstall     Category = "install-script"
	CatNetworkHook Category = "network-hook"
	CatWalletHook  Category = "wallet-hook"
	CatCryptoData  Category = "crypto-data"
	CatAddressSwap Category = "address-swap"
	CatObfuscation Category = "obfuscation"
	CatDynamicCode Category = "dynamic-code"
	CatDecodeExec  Category = "decode-exec"
	CatExec        Category = "process-exec"
	CatNetwork     Category = "network"
	CatSecrets     Category = "secrets"
	// CatWorm is self-propagation: publishing packages, rewriting
	// manifests, abusing the GitHub API, workflows and runners.
	CatWorm Category = "worm"
	// CatPayload is what carries a payload past review: native binaries,
	// invisible or look-alike characters in code, a tarball manifest that
	// disagrees with the registry's.
	CatPayload Category = "payload"
)

// Rule is one check with its metadata.
type Rule struct {
	// ID is stable (configs and reports refer to it): VGL-A0xx.
	ID   string
	Name string
	// Severity is the highest severity the rule reports; a finding may be
	// lower (see each rule).
	Severity Severity
	Category Category
	// Summary says what the rule catches, Why why that matters and
	// FalsePositives what legitimate code can trigger it.
	Summary        string
	Why            string
	FalsePositives string
	// Check is a pure function of the facts; Run stamps the rule's id,
	// name and category on what it returns.
	Check func(p *facts.Package) []Finding
}

// Finding is one rule firing at one place.
type Finding struct {
	Rule     string   `json:"rule"`
	Name     string   `json:"name"`
	Severity Severity `json:"severity"`
	Category Category `json:"category"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Col      int      `json:"col,omitempty"`
	// Evidence is a short, sanitised excerpt of the code or script.
	Evidence string `json:"evidence,omitempty"`
	Message  string `json:"message"`
}

// Run applies the rule and stamps its identity on the findings.
func (r *Rule) Run(p *facts.Package) []Finding {
	out := r.Check(p)
	for i := range out {
		out[i].Rule, out[i].Name, out[i].Category = r.ID, r.Name, r.Category
	}
	return out
}

// at builds a finding located in a file, with an excerpt of its source.
func at(sev Severity, f *facts.FileFacts, pos js.Pos, format string, args ...any) Finding {
	return Finding{
		Severity: sev,
		File:     f.Path, Line: pos.Line, Col: pos.Col,
		Evidence: Excerpt(f.Data, pos.Offset, pos.Line > 0),
		Message:  fmt.Sprintf(format, args...),
	}
}

// inManifest builds a finding about package.json.
func inManifest(sev Severity, line int, evidence, format string, args ...any) Finding {
	return Finding{
		Severity: sev,
		File:     "package.json", Line: line,
		Evidence: Sanitize(evidence, maxEvidence),
		Message:  fmt.Sprintf(format, args...),
	}
}

const maxEvidence = 160

// Excerpt returns up to maxEvidence characters of data from off, on one
// line, sanitised. When the position is known but deep into a long line,
// the excerpt starts a little before it for context.
func Excerpt(data []byte, off int, known bool) string {
	if !known || off < 0 || off > len(data) {
		return ""
	}
	start := off
	for i := 0; i < 24 && start > 0 && data[start-1] != '\n'; i++ {
		start--
	}
	for start < off && !utf8.RuneStart(data[start]) {
		start++
	}
	end := start
	for n := 0; end < len(data) && data[end] != '\n' && n < maxEvidence*4; n++ {
		end++
	}
	s := string(data[start:end])
	prefix := ""
	if start > 0 && data[start-1] != '\n' {
		prefix = "…"
	}
	return prefix + Sanitize(strings.TrimSpace(s), maxEvidence)
}

// Sanitize makes untrusted text safe to print in a terminal, a log or a
// report: invalid UTF-8, control characters and invisible or
// bidirectional characters become visible escapes, and the result is cut
// to max runes.
func Sanitize(s string, max int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n >= max {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case invisibleRune(r):
			fmt.Fprintf(&b, `\u{%X}`, r)
		case !unicode.IsPrint(r) && r != ' ':
			fmt.Fprintf(&b, `\u{%X}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func invisibleRune(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r >= 0x200B && r <= 0x200F,
		r == 0x2060, r == 0x180E, r == 0xFEFF, r == 0x3164, r == 0xFFA0, r == 0x115F, r == 0x1160:
		return true
	}
	return false
}

// jsFiles calls fn for every file with JavaScript facts.
func jsFiles(p *facts.Package, fn func(f *facts.FileFacts)) {
	for i := range p.Files {
		if p.Files[i].JS != nil {
			fn(&p.Files[i])
		}
	}
}

// plural formats n with a noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// decodedNote explains, for a message, that a name was hidden.
func decodedNote(o js.Origin) string {
	switch {
	case o&js.FromStringArray != 0:
		return " (the name is hidden in an obfuscated string table)"
	case o.Decoded():
		return " (the name is decoded at run time: " + o.String() + ")"
	}
	return ""
}
