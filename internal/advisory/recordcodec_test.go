package advisory

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestRecordCodecRoundTrip: every real record survives the binary form
// unchanged (compared as JSON, which also compacts raw fields).
func TestRecordCodecRoundTrip(t *testing.T) {
	var inputs [][]byte
	fs.WalkDir(snapshot, "snapshot", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != lastGoodFile {
			data, _ := snapshot.ReadFile(p)
			inputs = append(inputs, data)
		}
		return nil
	})
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		inputs = append(inputs, data)
	}
	for _, r := range evalRecords {
		inputs = append(inputs, []byte(r))
	}
	inputs = append(inputs, []byte(`{"id":"X","schema_version":"1.7.0","modified":"2025-01-02T03:04:05.123456789Z",
		"published":"1969-07-20T20:17:40Z","withdrawn":"odd","aliases":["A"],"related":["R"],"upstream":["U"],
		"credits":[{"name":"n","contact":["c1","c2"],"type":"FINDER"}],"database_specific":null,
		"affected":[{"package":{"ecosystem":"npm","name":"p","purl":"pkg:npm/p"},"severity":[{"type":"CVSS_V3","score":"s"}],
		"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"},{"limit":"*"},{}],"database_specific":{"a":[1, 2]}}],
		"ecosystem_specific":{"x":true}}]}`))
	for _, in := range inputs {
		var r Record
		if err := json.Unmarshal(in, &r); err != nil {
			t.Fatal(err)
		}
		enc := encodeRecord(nil, &r)
		back, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		want, _ := json.Marshal(&r)
		got, _ := json.Marshal(back)
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n got %s\nwant %s", r.ID, got, want)
		}
		if len(enc) >= len(in) {
			t.Logf("%s: binary %d bytes, JSON %d", r.ID, len(enc), len(in))
		}
		for cut := 0; cut < len(enc); cut += 1 + len(enc)/50 {
			if _, err := decodeRecord(enc[:cut]); err == nil {
				t.Errorf("%s truncated to %d bytes decoded", r.ID, cut)
			}
		}
	}
}

// FuzzDecodeRecord: arbitrary bytes in records.bin yield an error, never a
// panic; what decodes re-encodes to a fixed point.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range evalRecords {
		var rec Record
		json.Unmarshal([]byte(r), &rec)
		f.Add(encodeRecord(nil, &rec))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err != nil {
			return
		}
		enc := encodeRecord(nil, r)
		r2, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(encodeRecord(nil, r2), enc) {
			t.Fatal("encoding is not a fixed point")
		}
	})
}
