package advisory

import (
	"encoding/json"
	"os"
	"testing"
)

func TestDropSupersededRanges(t *testing.T) {
	const origins = `"database_specific":{"malicious-packages-origins":[
	  {"source":"ghsa-malware","id":"GHSA-1","modified_time":"2025-09-15T23:42:50Z","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},
	  {"source":"ghsa-malware","id":"GHSA-1","modified_time":"2025-09-16T01:14:51Z","ranges":[{"type":"SEMVER","events":[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]}]}]}`
	tests := []struct {
		name     string
		affected string
		extra    string
		version  string
		want     bool
	}{
		{"narrowed: clean release no longer matches", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]},{"type":"SEMVER","events":[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]}]`, origins, "4.1.0", false},
		{"narrowed: compromised release still matches", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]},{"type":"SEMVER","events":[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]}]`, origins, "4.1.2", true},
		{"narrowed to a versions list", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}],"versions":["4.1.1"]`, origins, "4.1.0", false},
		{"never emptied", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]`, origins, "1.0.0", true},
		{"no origins: whole package", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]`, `"database_specific":{}`, "1.0.0", true},
		{"another source still says every version", `"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]},{"type":"SEMVER","events":[{"introduced":"4.1.1"}]}]`,
			`"database_specific":{"malicious-packages-origins":[
			  {"source":"ghsa-malware","id":"GHSA-1","modified_time":"2025-09-15T00:00:00Z","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},
			  {"source":"ghsa-malware","id":"GHSA-1","modified_time":"2025-09-16T00:00:00Z","ranges":[{"type":"SEMVER","events":[{"introduced":"4.1.1"}]}]},
			  {"source":"ossf-package-analysis","modified_time":"2025-09-16T00:00:00Z","ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`, "1.0.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := `{"id":"MAL-TEST-1","modified":"2025-09-16T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"@ctrl/tinycolor"},` + tt.affected + `}],` + tt.extra + `}`
			var r Record
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				t.Fatal(err)
			}
			if got := r.Affects("@ctrl/tinycolor", tt.version); got != tt.want {
				t.Errorf("Affects(%s) = %v, want %v", tt.version, got, tt.want)
			}
		})
	}
}

// TestSnapshotNarrowedRecords checks the real records of the first
// Shai-Hulud wave: the compromised releases match, the release before them
// does not.
func TestSnapshotNarrowedRecords(t *testing.T) {
	db, err := OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, version string
		want          bool
	}{
		{"@ctrl/tinycolor", "4.1.1", true},
		{"@ctrl/tinycolor", "4.1.2", true},
		{"@ctrl/tinycolor", "4.1.0", false},
		{"ngx-toastr", "19.0.1", true},
		{"ngx-toastr", "19.0.0", false},
		{"debug", "4.4.2", true},
		{"debug", "4.4.1", false},
	} {
		ms, err := db.Match(tt.name, tt.version)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(ms) > 0; got != tt.want {
			t.Errorf("%s@%s matched = %v, want %v", tt.name, tt.version, got, tt.want)
		}
	}
	if _, err := os.Stat("snapshot/MAL-2025-47141.json"); err != nil {
		t.Fatalf("real record missing from the snapshot: %v", err)
	}
}
