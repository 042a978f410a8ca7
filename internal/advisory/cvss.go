package advisory

import (
	"fmt"
	"math"
	"strings"
)

// CVSS3BaseScore computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" → 9.8) with the formulas
// of the v3.1 specification, section 7.1. Temporal and environmental
// metrics are accepted and ignored.
func CVSS3BaseScore(vector string) (float64, error) {
	parts := strings.Split(strings.TrimSpace(vector), "/")
	if len(parts) == 0 || (parts[0] != "CVSS:3.1" && parts[0] != "CVSS:3.0") {
		return 0, fmt.Errorf("cvss %q: want a CVSS:3.0 or CVSS:3.1 prefix", vector)
	}
	v31 := parts[0] == "CVSS:3.1"
	m, err := metrics(vector, parts[1:])
	if err != nil {
		return 0, err
	}
	pick := func(key string, table map[string]float64) (float64, error) {
		v, ok := m[key]
		if !ok {
			return 0, fmt.Errorf("cvss %q: missing base metric %s", vector, key)
		}
		f, ok := table[v]
		if !ok {
			return 0, fmt.Errorf("cvss %q: bad value %s:%s", vector, key, v)
		}
		return f, nil
	}
	scope, ok := m["S"]
	if !ok || (scope != "U" && scope != "C") {
		return 0, fmt.Errorf("cvss %q: missing or bad scope", vector)
	}
	changed := scope == "C"
	prTable := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		prTable = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	var vals [7]float64
	for i, spec := range []struct {
		key   string
		table map[string]float64
	}{
		{"AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}},
		{"AC", map[string]float64{"L": 0.77, "H": 0.44}},
		{"PR", prTable},
		{"UI", map[string]float64{"N": 0.85, "R": 0.62}},
		{"C", cia}, {"I", cia}, {"A", cia},
	} {
		if vals[i], err = pick(spec.key, spec.table); err != nil {
			return 0, err
		}
	}
	av, ac, pr, ui, c, i, a := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploitability := 8.22 * av * ac * pr * ui
	if impact <= 0 {
		return 0, nil
	}
	roundup := roundup30
	if v31 {
		roundup = roundup31
	}
	if changed {
		return roundup(math.Min(1.08*(impact+exploitability), 10)), nil
	}
	return roundup(math.Min(impact+exploitability, 10)), nil
}

// roundup31 is the v3.1 Roundup (Appendix A): the smallest one-decimal
// number ≥ x, computed on integers so that 4.0000000001 is not 4.1.
func roundup31(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}

// roundup30 is v3.0's plain ceiling to one decimal.
func roundup30(x float64) float64 { return math.Ceil(x*10) / 10 }

// cvss3Rating is the qualitative rating of section 5.
func cvss3Rating(score float64) Severity {
	switch {
	case score >= 9.0:
		return SeverityCritical
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	}
	// 0.0 is "None": a published advisory still merits a low finding.
	return SeverityLow
}

// CVSS2BaseScore computes the base score of a CVSS v2 vector
// ("AV:N/AC:L/Au:N/C:P/I:P/A:P" → 7.5, optionally prefixed "(" or "CVSS:2.0/").
func CVSS2BaseScore(vector string) (float64, error) {
	s := strings.Trim(strings.TrimSpace(vector), "()")
	s = strings.TrimPrefix(s, "CVSS:2.0/")
	m, err := metrics(vector, strings.Split(s, "/"))
	if err != nil {
		return 0, err
	}
	cia := map[string]float64{"N": 0, "P": 0.275, "C": 0.660}
	var vals [6]float64
	for i, spec := range []struct {
		key   string
		table map[string]float64
	}{
		{"AV", map[string]float64{"L": 0.395, "A": 0.646, "N": 1.0}},
		{"AC", map[string]float64{"H": 0.35, "M": 0.61, "L": 0.71}},
		{"Au", map[string]float64{"M": 0.45, "S": 0.56, "N": 0.704}},
		{"C", cia}, {"I", cia}, {"A", cia},
	} {
		v, ok := m[spec.key]
		if !ok {
			return 0, fmt.Errorf("cvss %q: missing base metric %s", vector, spec.key)
		}
		f, ok := spec.table[v]
		if !ok {
			return 0, fmt.Errorf("cvss %q: bad value %s:%s", vector, spec.key, v)
		}
		vals[i] = f
	}
	impact := 10.41 * (1 - (1-vals[3])*(1-vals[4])*(1-vals[5]))
	exploitability := 20 * vals[0] * vals[1] * vals[2]
	f := 1.176
	if impact == 0 {
		f = 0
	}
	score := ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f
	return math.Round(score*10) / 10, nil
}

// cvss2Rating follows NVD's v2 ranges, which stop at High.
func cvss2Rating(score float64) Severity {
	switch {
	case score >= 7.0:
		return SeverityHigh
	case score >= 4.0:
		return SeverityMedium
	}
	return SeverityLow
}

// metrics splits KEY:VALUE parts; a repeated key makes the vector invalid,
// as the specification requires.
func metrics(vector string, parts []string) (map[string]string, error) {
	m := make(map[string]string, len(parts))
	for _, p := range parts {
		k, v, ok := strings.Cut(p, ":")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("cvss %q: bad metric %q", vector, p)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("cvss %q: metric %s repeated", vector, k)
		}
		m[k] = v
	}
	return m, nil
}
