package advisory

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Severity is a severity level; its values are internal/scan's
// (scan.Severity(s) converts).
type Severity string

const (
	SeverityUnknown  Severity = "unknown"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// severities indexes the levels by their byte code in the index file.
var severities = [...]Severity{SeverityUnknown, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

func (s Severity) code() byte {
	for i, v := range severities {
		if v == s {
			return byte(i)
		}
	}
	return 0
}

func severityFromCode(c byte) Severity {
	if int(c) < len(severities) {
		return severities[c]
	}
	return SeverityUnknown
}

// dbSpecific is the part of a record's top-level database_specific that
// classification reads (GHSA and OpenSSF malicious-packages conventions).
type dbSpecific struct {
	Severity string          `json:"severity"`
	CWEIDs   []string        `json:"cwe_ids"`
	Origins  json.RawMessage `json:"malicious-packages-origins"`
}

func decodeDBSpecific(raw json.RawMessage) dbSpecific {
	var d dbSpecific
	// Its shape is up to each database; an odd one must not drop the record.
	_ = json.Unmarshal(raw, &d)
	return d
}

// classifyInput is what malware and severity classification look at.
// database_specific is decoded only when the id and summary do not decide:
// malware records carry large provenance lists there.
type classifyInput struct {
	id       string
	summary  string
	rawDB    json.RawMessage
	db       *dbSpecific
	severity []Score
	affected []Affected
}

func (in *classifyInput) dbSpecific() *dbSpecific {
	if in.db == nil {
		d := decodeDBSpecific(in.rawDB)
		in.db = &d
	}
	return in.db
}

// Classify returns whether a record describes malware and its severity.
// Malware is always critical.
func (r *Record) Classify() (malicious bool, sev Severity) {
	in := classifyInput{id: r.ID, summary: r.Summary, rawDB: r.DatabaseSpecific, severity: r.Severity, affected: r.Affected}
	return in.classify()
}

func (in *classifyInput) classify() (bool, Severity) {
	if in.malicious() {
		return true, SeverityCritical
	}
	return false, in.level()
}

// malicious recognises malware records:
//   - OpenSSF malicious-packages records (MAL- ids), and any record that
//     carries their malicious-packages-origins provenance;
//   - GitHub malware advisories (GHSA ids), whose summaries read
//     "Malware in X" (older ones "Malicious code in X" or "Embedded
//     Malicious Code in X").
//
// CWE-506 (Embedded Malicious Code) alone is not enough: GitHub also gives
// it to ordinary vulnerabilities with fixed releases (protestware, exposed
// backdoors), which must keep their own severity.
func (in *classifyInput) malicious() bool {
	if strings.HasPrefix(in.id, "MAL-") {
		return true
	}
	s := strings.ToLower(strings.TrimSpace(in.summary))
	for _, p := range []string{"malware in ", "malicious code in ", "embedded malicious code in "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	if !bytes.Contains(in.rawDB, []byte(`"malicious-packages-origins"`)) {
		return false // cheap test before decoding
	}
	o := in.dbSpecific().Origins
	return len(o) > 0 && string(o) != "null"
}

// level is GitHub's database_specific.severity when present, else the
// highest severity computable from CVSS vectors, else unknown.
func (in *classifyInput) level() Severity {
	switch strings.ToUpper(strings.TrimSpace(in.dbSpecific().Severity)) {
	case "LOW":
		return SeverityLow
	case "MODERATE", "MEDIUM":
		return SeverityMedium
	case "HIGH":
		return SeverityHigh
	case "CRITICAL":
		return SeverityCritical
	}
	best := scoresLevel(in.severity)
	for i := range in.affected {
		if l := scoresLevel(in.affected[i].Severity); l.rank() > best.rank() {
			best = l
		}
	}
	return best
}

func scoresLevel(scores []Score) Severity {
	best := SeverityUnknown
	for _, s := range scores {
		var l Severity
		switch s.Type {
		case "CVSS_V3":
			score, err := CVSS3BaseScore(s.Score)
			if err != nil {
				continue
			}
			l = cvss3Rating(score)
		case "CVSS_V2":
			score, err := CVSS2BaseScore(s.Score)
			if err != nil {
				continue
			}
			l = cvss2Rating(score)
		default:
			// CVSS_V4 scoring needs the specification's macro-vector
			// tables; GitHub records carrying v4 also carry
			// database_specific.severity, which is read first.
			continue
		}
		if l.rank() > best.rank() {
			best = l
		}
	}
	return best
}

func (s Severity) rank() int { return int(s.code()) }
