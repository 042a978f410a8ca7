package policy

import "github.com/vigil-sec/vigil/internal/npm"

// VerdictLevel is vigil analyze's conclusion about a version. The values
// are internal/analyze's Verdict strings, so policy.VerdictLevel(r.Verdict)
// converts; policy does not import analyze (and its JavaScript parser).
type VerdictLevel string

const (
	VerdictClean      VerdictLevel = "clean"
	VerdictSuspicious VerdictLevel = "suspicious"
	VerdictMalicious  VerdictLevel = "malicious"
)

// Verdict is what the policy needs of one analysis report.
type Verdict struct {
	Level VerdictLevel
	Score int
	// Summary says what was found, in one line a person reads, e.g.
	// "VGL-A030 spawns a shell from postinstall"; may be empty.
	Summary string
}

// VerdictSource answers with the analysis verdict of a version; ok is false
// when the version was not analysed (yet).
type VerdictSource interface {
	Verdict(name, version string) (v Verdict, ok bool)
}

// Verdicts is an in-memory VerdictSource.
type Verdicts map[npm.PackageVersion]Verdict

// Verdict implements VerdictSource.
func (vs Verdicts) Verdict(name, version string) (Verdict, bool) {
	v, ok := vs[npm.PackageVersion{Name: name, Version: version}]
	return v, ok
}
