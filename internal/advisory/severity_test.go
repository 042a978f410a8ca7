package advisory

import (
	"encoding/json"
	"testing"
)

func TestCVSS3BaseScore(t *testing.T) {
	// Scores as published by NVD / the FIRST calculator.
	for _, c := range []struct {
		vector string
		score  float64
		sev    Severity
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, SeverityCritical},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, SeverityCritical},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, SeverityHigh},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, SeverityMedium},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N", 6.8, SeverityMedium}, // elliptic, GHSA-r9p9-mrjm-926w
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, SeverityMedium}, // the classic reflected XSS
		{"CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N", 2.5, SeverityLow},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, SeverityLow},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 8.8, SeverityHigh},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8, SeverityHigh},
		{"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, SeverityLow},
		// Temporal metrics are ignored; 3.0 rounds up plainly.
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8, SeverityCritical},
		{"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1, SeverityLow},
	} {
		got, err := CVSS3BaseScore(c.vector)
		if err != nil {
			t.Errorf("%s: %v", c.vector, err)
			continue
		}
		if got != c.score {
			t.Errorf("%s = %.1f, want %.1f", c.vector, got, c.score)
		}
		if r := cvss3Rating(got); r != c.sev {
			t.Errorf("%s rating = %s, want %s", c.vector, r, c.sev)
		}
	}
	for _, bad := range []string{
		"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", // A missing
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/junk",
	} {
		if _, err := CVSS3BaseScore(bad); err == nil {
			t.Errorf("CVSS3BaseScore(%q) accepted", bad)
		}
	}
}

func TestRoundup31(t *testing.T) {
	for in, want := range map[float64]float64{4.0: 4.0, 4.02: 4.1, 4.000001: 4.0, 4.00001: 4.1, 9.81: 9.9} {
		if got := roundup31(in); got != want {
			t.Errorf("roundup31(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestCVSS2BaseScore(t *testing.T) {
	for _, c := range []struct {
		vector string
		score  float64
	}{
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0},
		{"(AV:N/AC:M/Au:N/C:N/I:P/A:N)", 4.3},
		{"AV:L/AC:L/Au:N/C:N/I:N/A:N", 0},
	} {
		got, err := CVSS2BaseScore(c.vector)
		if err != nil || got != c.score {
			t.Errorf("%s = %v, %v; want %v", c.vector, got, err, c.score)
		}
	}
	if _, err := CVSS2BaseScore("AV:N/AC:L/Au:N/C:P/I:P"); err == nil {
		t.Error("incomplete v2 vector accepted")
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name      string
		record    string
		malicious bool
		sev       Severity
	}{
		{"MAL id", `{"id":"MAL-2025-1","summary":"Malicious code in x (npm)"}`, true, SeverityCritical},
		{"origins", `{"id":"OSV-1","database_specific":{"malicious-packages-origins":[{"source":"ghsa-malware"}]}}`, true, SeverityCritical},
		{"GHSA malware summary", `{"id":"GHSA-aaaa-bbbb-cccc","summary":"Malware in colorz","database_specific":{"severity":"CRITICAL","cwe_ids":["CWE-506"],"github_reviewed":true}}`, true, SeverityCritical},
		{"GHSA malware, low db severity", `{"id":"GHSA-aaaa-bbbb-dddd","summary":"Malware in x","database_specific":{"severity":"LOW"}}`, true, SeverityCritical},
		{"embedded malicious code", `{"id":"GHSA-97m3-w2cp-4xx6","summary":"Embedded Malicious Code in node-ipc"}`, true, SeverityCritical},
		// CWE-506 alone marks protestware and backdoor bugs with fixes too.
		{"CWE-506 alone", `{"id":"GHSA-x","summary":"Prototype pollution in y","database_specific":{"severity":"HIGH","cwe_ids":["CWE-506"]}}`, false, SeverityHigh},
		{"moderate", `{"id":"GHSA-m","database_specific":{"severity":"MODERATE"}}`, false, SeverityMedium},
		{"low", `{"id":"GHSA-l","database_specific":{"severity":"LOW"}}`, false, SeverityLow},
		{"db severity beats CVSS", `{"id":"GHSA-c","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"database_specific":{"severity":"LOW"}}`, false, SeverityLow},
		{"CVSS v3 fallback", `{"id":"CVE-1","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}`, false, SeverityHigh},
		{"highest of several", `{"id":"CVE-2","severity":[{"type":"CVSS_V2","score":"AV:N/AC:M/Au:N/C:N/I:P/A:N"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`, false, SeverityCritical},
		{"affected severity", `{"id":"CVE-3","affected":[{"package":{"ecosystem":"npm","name":"a"},"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}]}`, false, SeverityMedium},
		{"v4 only", `{"id":"CVE-4","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}`, false, SeverityUnknown},
		{"garbage vector", `{"id":"CVE-5","severity":[{"type":"CVSS_V3","score":"nonsense"}]}`, false, SeverityUnknown},
		{"db specific not an object", `{"id":"CVE-6","database_specific":[1,2]}`, false, SeverityUnknown},
		{"nothing", `{"id":"CVE-7"}`, false, SeverityUnknown},
	} {
		var r Record
		if err := json.Unmarshal([]byte(c.record), &r); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mal, sev := r.Classify()
		if mal != c.malicious || sev != c.sev {
			t.Errorf("%s: malicious=%v severity=%s, want %v %s", c.name, mal, sev, c.malicious, c.sev)
		}
	}
}

// TestSeverityValues pins the strings internal/scan uses.
func TestSeverityValues(t *testing.T) {
	want := []string{"unknown", "low", "medium", "high", "critical"}
	for i, s := range severities {
		if string(s) != want[i] || severityFromCode(s.code()) != s || s.rank() != i {
			t.Errorf("severity %d = %q", i, s)
		}
	}
	if severityFromCode(200) != SeverityUnknown {
		t.Error("unknown code")
	}
}
