// Package advisory holds OSV advisory records (vulnerabilities and MAL-
// malware records) for the npm ecosystem: their types, matching by npm
// semver precedence, import from zip/directory/URL into a compact on-disk
// index, and a curated snapshot embedded in the binary so a scan works
// offline on first run.
//
// The scan path never decodes the whole database: Open reads one small
// index file whose package names are binary-searched and whose affected
// ranges are pre-parsed into a compact binary form; the full JSON of a
// record is read only when it matches.
package advisory

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
)

// Ecosystem is the only OSV ecosystem Vigil reads.
const Ecosystem = "npm"

// Record is one OSV record (https://ossf.github.io/osv-schema/). Records
// returned by a DB are shared between callers and must not be modified.
type Record struct {
	SchemaVersion string      `json:"schema_version,omitempty"`
	ID            string      `json:"id"`
	Modified      time.Time   `json:"modified"`
	Published     time.Time   `json:"published,omitempty"`
	Withdrawn     time.Time   `json:"withdrawn,omitempty"`
	Aliases       []string    `json:"aliases,omitempty"`
	Related       []string    `json:"related,omitempty"`
	Upstream      []string    `json:"upstream,omitempty"`
	Summary       string      `json:"summary,omitempty"`
	Details       string      `json:"details,omitempty"`
	Severity      []Score     `json:"severity,omitempty"`
	Affected      []Affected  `json:"affected,omitempty"`
	References    []Reference `json:"references,omitempty"`
	Credits       []Credit    `json:"credits,omitempty"`
	// DatabaseSpecific is kept raw: its shape is up to each database.
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Score is one entry of a severity list, e.g. {CVSS_V3, "CVSS:3.1/AV:N/…"}.
type Score struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected names one package and the versions of it a record affects.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Score         `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies the affected package.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

// RangeType is SEMVER, ECOSYSTEM or GIT.
type RangeType string

const (
	RangeSemver    RangeType = "SEMVER"
	RangeEcosystem RangeType = "ECOSYSTEM"
	RangeGit       RangeType = "GIT"
)

// Range is a timeline of events over versions of one type.
type Range struct {
	Type             RangeType       `json:"type"`
	Repo             string          `json:"repo,omitempty"`
	Events           []Event         `json:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Event is one point of a range timeline; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link about the record.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Credit names someone credited for the record.
type Credit struct {
	Name    string   `json:"name"`
	Contact []string `json:"contact,omitempty"`
	Type    string   `json:"type,omitempty"`
}

// UnmarshalJSON decodes a record leniently about timestamps: feeds disagree
// on fractional seconds and offsets, and one odd timestamp must not make an
// advisory (possibly a malware record) disappear.
func (r *Record) UnmarshalJSON(data []byte) error {
	type plain Record
	var aux struct {
		plain
		Modified  string `json:"modified"`
		Published string `json:"published"`
		Withdrawn string `json:"withdrawn"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*r = Record(aux.plain)
	r.Modified = parseTime(aux.Modified)
	r.Published = parseTime(aux.Published)
	r.Withdrawn = parseTime(aux.Withdrawn)
	if r.Withdrawn.IsZero() && strings.TrimSpace(aux.Withdrawn) != "" {
		// The field's presence is what withdraws a record; an odd
		// timestamp must not bring it back. The epoch stands for "unknown".
		r.Withdrawn = time.Unix(0, 0).UTC()
	}
	r.dropSupersededRanges()
	return nil
}

// MarshalJSON writes zero times as absent, as OSV does.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	aux := struct {
		plain
		Modified  string `json:"modified,omitempty"`
		Published string `json:"published,omitempty"`
		Withdrawn string `json:"withdrawn,omitempty"`
	}{plain: plain(r), Modified: fmtTime(r.Modified), Published: fmtTime(r.Published), Withdrawn: fmtTime(r.Withdrawn)}
	return json.Marshal(aux)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime accepts RFC 3339 with or without fractional seconds, a missing
// zone (taken as UTC) or a bare date; anything else is the zero time.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// IsWithdrawn reports whether the record was withdrawn; withdrawn records
// never match.
func (r *Record) IsWithdrawn() bool { return !r.Withdrawn.IsZero() }

// npmName returns the npm package name of an affected entry, or "" when
// the entry is for another ecosystem. A missing name is recovered from the
// purl, which some feeds fill instead.
func (a *Affected) npmName() string {
	if a.Package.Ecosystem != Ecosystem {
		if a.Package.Ecosystem == "" && a.Package.Name == "" {
			if name, _, ok := npm.ParsePURL(a.Package.Purl); ok {
				return name
			}
		}
		return ""
	}
	if a.Package.Name != "" {
		return a.Package.Name
	}
	if name, _, ok := npm.ParsePURL(a.Package.Purl); ok {
		return name
	}
	return ""
}
