package policy

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/advisory"
)

// severityRank orders severities low=1 … critical=4. A vulnerability of
// unknown severity counts as medium, as in scan: an advisory without a
// score is not harmless.
func severityRank(s advisory.Severity) int {
	switch s {
	case advisory.SeverityLow:
		return 1
	case advisory.SeverityHigh:
		return 3
	case advisory.SeverityCritical:
		return 4
	}
	return 2
}

// advisoryReasons applies the OSV records matching the version: malware
// gets the malware action, vulnerabilities at or above min_severity the
// advisory action. Withdrawn records never match (the matcher drops them).
func (v *view) advisoryReasons(version string, rs []Reason) []Reason {
	ms, err := v.match(version)
	if err != nil {
		// Fail closed: without advisory data the version may be malware.
		// The result must not be cached past this moment.
		v.changesAt(v.now)
		return append(rs, Reason{
			Rule:    RuleAdvisory,
			Action:  v.e.malware,
			Message: fmt.Sprintf("advisory data could not be read, so malware records cannot be ruled out: %v", err),
		})
	}
	for _, m := range ms {
		id, summary := "", ""
		if m.Record != nil {
			id, summary = m.Record.ID, m.Record.Summary
		}
		switch {
		case m.Malicious:
			if summary == "" {
				summary = "malicious code"
			}
			rs = append(rs, Reason{Rule: RuleAdvisory, Action: v.e.malware, ID: id, Message: summary})
		case v.e.vulnerable != Allow && severityRank(m.Severity) >= v.e.minSeverity:
			if summary == "" {
				summary = "known vulnerability"
			}
			sev := m.Severity
			if sev == "" {
				sev = advisory.SeverityUnknown
			}
			rs = append(rs, Reason{Rule: RuleAdvisory, Action: v.e.vulnerable, ID: id,
				Message: fmt.Sprintf("%s (%s severity)", summary, sev)})
		}
	}
	return rs
}
