package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestFilter(t *testing.T) {
	quarantine := func(entries ...QuarantineEntry) Inputs { return Inputs{Quarantine: entries} }
	entry := func(versions string) QuarantineEntry {
		return QuarantineEntry{Package: tagsName, Versions: versions, Reason: "test"}
	}
	tests := []struct {
		name     string
		file     string
		cfg      func(*config.Policy)
		in       Inputs
		mutate   func(*registry.Packument)
		remove   []string
		distTags map[string]string
		retagged []TagChange
	}{
		{
			name: "nothing blocked", file: tagsFile,
			distTags: map[string]string{"latest": "2.1.0", "next": "3.0.0-rc.1", "beta": "2.0.0-beta.2", "v1": "1.1.1"},
		},
		{
			name: "latest pointing at malware", file: debugFile, in: Inputs{Advisories: testAdvisories},
			remove:   []string{"4.4.2"},
			distTags: map[string]string{"latest": "4.4.1"},
			retagged: []TagChange{{"latest", "4.4.2", "4.4.1"}},
		},
		{
			name: "too-young versions: latest, a prerelease tag and a backport line tag", file: tagsFile, cfg: cooldown("3d"),
			remove:   []string{"1.1.1", "2.1.0", "3.0.0-rc.1"},
			distTags: map[string]string{"latest": "2.0.0", "beta": "2.0.0-beta.2", "v1": "1.1.0"},
			retagged: []TagChange{{"latest", "2.1.0", "2.0.0"}, {"next", "3.0.0-rc.1", ""}, {"v1", "1.1.1", "1.1.0"}},
		},
		{
			name: "a warning cooldown removes nothing but still moves tags", file: tagsFile,
			cfg:      cooldown("3d", func(p *config.Policy) { p.MinReleaseAge.Action = "warn" }),
			distTags: map[string]string{"latest": "2.0.0", "beta": "2.0.0-beta.2", "v1": "1.1.0"},
			retagged: []TagChange{{"latest", "2.1.0", "2.0.0"}, {"next", "3.0.0-rc.1", ""}, {"v1", "1.1.1", "1.1.0"}},
		},
		{
			name: "latest crosses lines but never lands on a prerelease", file: tagsFile,
			in:       quarantine(entry(">=2.0.0")),
			remove:   []string{"2.0.0", "2.1.0", "3.0.0-rc.1"},
			distTags: map[string]string{"latest": "1.1.1", "beta": "2.0.0-beta.2", "v1": "1.1.1"},
			retagged: []TagChange{{"latest", "2.1.0", "1.1.1"}, {"next", "3.0.0-rc.1", ""}},
		},
		{
			name: "a prerelease tag moves to a lower prerelease of its line", file: tagsFile,
			in:       quarantine(entry("2.0.0-beta.2")),
			remove:   []string{"2.0.0-beta.2"},
			distTags: map[string]string{"latest": "2.1.0", "next": "3.0.0-rc.1", "beta": "2.0.0-beta.1", "v1": "1.1.1"},
			retagged: []TagChange{{"beta", "2.0.0-beta.2", "2.0.0-beta.1"}},
		},
		{
			name: "a prerelease tag may move to a release of its line", file: tagsFile, cfg: cooldown("3d"),
			mutate:   func(pk *registry.Packument) { pk.DistTags = map[string]string{"canary": "2.2.0-canary.3"} },
			remove:   []string{"1.1.1", "2.1.0", "3.0.0-rc.1"},
			distTags: map[string]string{"canary": "2.0.0"},
			retagged: []TagChange{{"canary", "2.2.0-canary.3", "2.0.0"}},
		},
		{
			name: "a line tag never leaves its line", file: tagsFile,
			in:       quarantine(entry("1.x")),
			remove:   []string{"1.0.0", "1.1.0", "1.1.1"},
			distTags: map[string]string{"latest": "2.1.0", "next": "3.0.0-rc.1", "beta": "2.0.0-beta.2"},
			retagged: []TagChange{{"v1", "1.1.1", ""}},
		},
		{
			name: "all versions blocked", file: tagsFile,
			in:       quarantine(QuarantineEntry{Package: tagsName, Reason: "compromised"}),
			remove:   []string{"0.9.0", "1.0.0", "1.1.0", "1.1.1", "2.0.0-beta.1", "2.0.0-beta.2", "2.0.0", "2.1.0", "3.0.0-rc.1"},
			distTags: map[string]string{},
			retagged: []TagChange{{"beta", "2.0.0-beta.2", ""}, {"latest", "2.1.0", ""}, {"next", "3.0.0-rc.1", ""}, {"v1", "1.1.1", ""}},
		},
		{
			name: "a tag pointing at an unpublished version", file: widgetFile,
			mutate:   func(pk *registry.Packument) { pk.DistTags["latest"] = "2.1.1" },
			distTags: map[string]string{"latest": "2.1.0", "next": "2.0.0-beta.1", "v1": "1.1.1"},
			retagged: []TagChange{{"latest", "2.1.1", "2.1.0"}},
		},
		{
			name: "a tag that is not a version", file: debugFile,
			mutate:   func(pk *registry.Packument) { pk.DistTags["weird"] = "not-a-version" },
			distTags: map[string]string{"latest": "4.4.2"},
			retagged: []TagChange{{"weird", "not-a-version", ""}},
		},
		{
			name: "dry run removes and moves nothing", file: tagsFile,
			cfg:      cooldown("3d", func(p *config.Policy) { p.DryRun = true }),
			distTags: map[string]string{"latest": "2.1.0", "next": "3.0.0-rc.1", "beta": "2.0.0-beta.2", "v1": "1.1.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk := loadPackument(t, tt.file)
			if tt.mutate != nil {
				tt.mutate(pk)
			}
			p := newTestEngine(t, tt.cfg, tt.in).Filter(pk)
			if !reflect.DeepEqual(p.Remove, tt.remove) {
				t.Errorf("Remove %q, want %q", p.Remove, tt.remove)
			}
			if !reflect.DeepEqual(p.DistTags, tt.distTags) {
				t.Errorf("DistTags %v, want %v", p.DistTags, tt.distTags)
			}
			if !reflect.DeepEqual(p.Retagged, tt.retagged) {
				t.Errorf("Retagged %+v, want %+v", p.Retagged, tt.retagged)
			}
			checkPlanInvariants(t, pk, &p)
		})
	}
}

// checkPlanInvariants holds for every plan: removed versions are exactly
// the blocked ones (none in dry run), Keeps agrees, and every tag points at
// a served version that is out of its cooldown.
func checkPlanInvariants(t *testing.T, pk *registry.Packument, p *Plan) {
	t.Helper()
	removed := map[string]bool{}
	for _, v := range p.Remove {
		removed[v] = true
		if p.Decisions[v].Action != Block {
			t.Errorf("removed %s, decided %s", v, p.Decisions[v].Action)
		}
	}
	for v, d := range p.Decisions {
		if _, ok := pk.Versions[v]; !ok {
			t.Errorf("decision for unlisted %s", v)
		}
		if d.Action == Block && !p.DryRun && !removed[v] {
			t.Errorf("blocked %s not removed", v)
		}
		if p.Keeps(v) == removed[v] {
			t.Errorf("Keeps(%s) = %v, removed %v", v, p.Keeps(v), removed[v])
		}
	}
	if p.DryRun {
		return
	}
	for tag, v := range p.DistTags {
		d, ok := p.Decisions[v]
		if !ok || removed[v] {
			t.Errorf("tag %s → %s, which is not served", tag, v)
		}
		for _, r := range d.Reasons {
			if r.Rule == RuleReleaseAge && r.Action != Allow {
				t.Errorf("tag %s → %s, which is in its cooldown", tag, v)
			}
		}
	}
}

// TestFilterGolden pins whole plans, decisions and reasons included, for
// the two scenarios a reader most wants to see.
func TestFilterGolden(t *testing.T) {
	tests := []struct {
		golden string
		file   string
		cfg    func(*config.Policy)
		in     Inputs
	}{
		{"plan-debug-compromise.golden.json", debugFile, cooldown("3d"), Inputs{Advisories: testAdvisories,
			Now: fixedClock(time.Date(2025, 9, 8, 14, 0, 0, 0, time.UTC))}},
		{"plan-tags-cooldown.golden.json", tagsFile, cooldown("3d", func(p *config.Policy) {
			p.MinReleaseAge.AllowFixes = true
			p.Advisories.MinSeverity = "medium"
		}), Inputs{Advisories: testAdvisories, Verdicts: verdict(tagsName, "1.1.1", VerdictClean, 0, "")}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			p := newTestEngine(t, tt.cfg, tt.in).Filter(loadPackument(t, tt.file))
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plan differs from %s (run with -update to accept):\n%s", path, got)
			}
		})
	}
}
