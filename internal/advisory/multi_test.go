package advisory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMultiLayering(t *testing.T) {
	// user: an older copy of SHARED (versions 1.0.0), USER-ONLY, and a
	// newer withdrawal of GONE. base: a newer SHARED (1.0.0 and 1.0.1),
	// BASE-ONLY and GONE.
	user := memDB(t,
		malRec("MAL-SHARED", "p", "1.0.0", "2025-01-01T00:00:00Z"),
		malRec("MAL-USER", "p", "1.0.0", "2025-01-01T00:00:00Z"),
		malRec("MAL-GONE", "p", "1.0.0", "2025-06-01T00:00:00Z", `"withdrawn":"2025-06-01T00:00:00Z"`),
	)
	base := memDB(t,
		`{"id":"MAL-SHARED","modified":"2025-03-01T00:00:00Z","summary":"newer","affected":[{"package":{"ecosystem":"npm","name":"p"},"versions":["1.0.0","1.0.1"]}]}`,
		malRec("MAL-BASE", "p", "1.0.0", "2025-01-01T00:00:00Z"),
		malRec("MAL-GONE", "p", "1.0.0", "2025-01-01T00:00:00Z"),
	)
	m := NewMulti(user, nil, base)
	ms, err := m.Match("p", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range ms {
		ids = append(ids, x.Record.ID)
		if x.Record.ID == "MAL-SHARED" && x.Record.Summary != "newer" {
			t.Errorf("MAL-SHARED from the older layer: %q", x.Record.Summary)
		}
	}
	if !slices.Equal(ids, []string{"MAL-BASE", "MAL-SHARED", "MAL-USER"}) {
		t.Errorf("ids = %v", ids)
	}
	if ids := matchIDs(t, m, "p", "1.0.1"); !slices.Equal(ids, []string{"MAL-SHARED"}) {
		t.Errorf("1.0.1: %v", ids)
	}
	// A withdrawal older than the record does not hide it.
	older := memDB(t, malRec("MAL-BASE", "p", "1.0.0", "2024-01-01T00:00:00Z", `"withdrawn":"2024-01-01T00:00:00Z"`))
	if ids := matchIDs(t, NewMulti(older, base), "p", "1.0.0"); !slices.Contains(ids, "MAL-BASE") {
		t.Errorf("stale withdrawal hid MAL-BASE: %v", ids)
	}
	info := m.Info()
	if len(info.Layers) != 2 || info.Records != user.Info().Records+base.Info().Records || !strings.Contains(info.Source, " + ") {
		t.Errorf("info = %+v", info)
	}
}

// TestEmbeddedAlwaysApplies: an imported database that predates the
// compromise of debug 4.4.2 must not hide the embedded record of it.
func TestEmbeddedAlwaysApplies(t *testing.T) {
	emb, err := OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "old.json")
	os.WriteFile(src, []byte(malRec("MAL-2020-1", "left-pad", "9.9.9", "2020-01-01T00:00:00Z")), 0o644)
	dir := filepath.Join(tmp, "db")
	if _, err := Import(context.Background(), dir, []Source{{src}}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	user, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	m := NewMulti(user, emb)
	ms, err := m.Match("debug", "4.4.2")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ms, func(x Match) bool {
		return x.Record.ID == "MAL-2025-46974" && x.Malicious && x.Severity == SeverityCritical
	}) {
		t.Errorf("debug@4.4.2 not reported through the layers: %+v", ms)
	}
	if !m.Info().Embedded {
		t.Error("info does not mention the embedded layer")
	}
}

func TestEmbeddedSnapshot(t *testing.T) {
	db, err := OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	info := db.Info()
	if !info.Embedded || info.Records < 21 || info.Built.IsZero() {
		t.Errorf("info = %+v", info)
	}
	again, _ := OpenEmbedded()
	if again != db {
		t.Error("embedded database rebuilt")
	}
	for _, c := range []struct{ name, version, id string }{
		{"debug", "4.4.2", "MAL-2025-46974"},
		{"chalk", "5.6.1", "MAL-2025-46969"},
		{"node-ipc", "9.2.3", "MAL-2026-3744"},
	} {
		ms, err := db.Match(c.name, c.version)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ms, func(m Match) bool { return m.Record.ID == c.id })
		if i < 0 || !ms[i].Malicious || ms[i].Severity != SeverityCritical {
			t.Errorf("%s@%s: %+v", c.name, c.version, ms)
		}
	}
	if ms, _ := db.Match("debug", "4.4.1"); len(ms) != 0 {
		t.Errorf("debug@4.4.1 matched %d records", len(ms))
	}
}

// TestSnapshotFiles checks the curated folder: every file is a valid npm
// OSV record (buildFS fails on any invalid one), ids match file names, and
// every last-good hint names a version some embedded record affects.
func TestSnapshotFiles(t *testing.T) {
	entries, err := snapshot.ReadDir("snapshot")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == lastGoodFile {
			continue
		}
		data, _ := snapshot.ReadFile("snapshot/" + e.Name())
		c, err := compile(data)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if c.id+".json" != e.Name() {
			t.Errorf("%s holds record %s", e.Name(), c.id)
		}
	}
	table, err := lastGoodTable()
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for name, vs := range table {
		for v, good := range vs {
			ms, err := db.Match(name, v)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				t.Errorf("lastgood.json: no embedded record affects %s@%s", name, v)
				continue
			}
			if ms[0].LastGood != good {
				t.Errorf("%s@%s: LastGood = %q, want %q", name, v, ms[0].LastGood, good)
			}
			if other, _ := db.Match(name, good); len(other) != 0 {
				t.Errorf("lastgood.json: %s@%s, the 'good' version, is itself affected", name, good)
			}
		}
	}
}
