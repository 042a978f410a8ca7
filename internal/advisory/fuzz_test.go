package advisory

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

func addSeedRecords(f *testing.F) {
	for _, r := range evalRecords {
		f.Add([]byte(r), "1.0.0")
	}
	paths, _ := filepath.Glob("testdata/*.json")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "4.4.2")
	}
}

// FuzzRecordMatch decodes arbitrary records and checks that the index's
// binary matcher agrees with the reference evaluation (Record.Affects)
// for every package the record names, and never panics.
func FuzzRecordMatch(f *testing.F) {
	addSeedRecords(f)
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		var r Record
		refErr := json.Unmarshal(data, &r)
		c, err := compile(data)
		if err != nil {
			return
		}
		if refErr != nil {
			t.Fatalf("compile accepted a record Record rejects: %v", refErr)
		}
		back, err := decodeRecord(c.raw)
		if err != nil {
			t.Fatalf("stored form does not decode: %v", err)
		}
		if enc := encodeRecord(nil, back); !bytes.Equal(enc, c.raw) {
			t.Fatal("stored form changes on a second round trip")
		}
		db, err := buildFS(context.Background(), fstest.MapFS{"r/x.json": {Data: data}}, "r", "fuzz")
		if err != nil {
			t.Fatalf("build of a compiled record failed: %v", err)
		}
		names := map[string]bool{}
		for _, e := range c.entries {
			names[e.name] = true
		}
		for name := range names {
			ms, err := db.Match(name, version)
			if err != nil {
				t.Fatalf("Match(%q, %q): %v", name, version, err)
			}
			want := r.Affects(name, version)
			if got := len(ms) == 1; got != want || len(ms) > 1 {
				t.Fatalf("%s@%q: index says %d matches, reference says %v", name, version, len(ms), want)
			}
			if want {
				fixed, last := r.boundsFor(name)
				if !slices.Equal(ms[0].Fixed, fixed) || !slices.Equal(ms[0].LastAffected, last) {
					t.Fatalf("bounds %v %v, reference %v %v", ms[0].Fixed, ms[0].LastAffected, fixed, last)
				}
				mal, sev := r.Classify()
				if ms[0].Malicious != mal || ms[0].Severity != sev {
					t.Fatalf("classification %v %s, reference %v %s", ms[0].Malicious, ms[0].Severity, mal, sev)
				}
			}
		}
	})
}

// FuzzCompareEncoded checks the allocation-free comparison against npm's.
func FuzzCompareEncoded(f *testing.F) {
	for _, p := range [][2]string{{"1.0.0", "1.0.0-rc.1"}, {"1.0.0-alpha.10", "1.0.0-alpha.9"}, {"1.0.0-01", "1.0.0-1"}, {"0.0.0", "v0.0.0+x"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		qa, qb := newQuery(a), newQuery(b)
		if !qa.valid || !qb.valid {
			return
		}
		enc := appendVersion(nil, qa.v)
		q := prepare(qb)
		d := dec{b: enc}
		if got, want := cmpEncoded(&d, &q), qa.v.Compare(qb.v); got != want || d.err != nil {
			t.Fatalf("cmpEncoded(%q, %q) = %d (%v), npm says %d", a, b, got, d.err, want)
		}
	})
}

// FuzzIndex feeds damaged index files to the reader: every path must
// return results or ErrCorrupt-wrapped errors, never panic.
func FuzzIndex(f *testing.F) {
	var idx, recs bytes.Buffer
	// A small index: the fuzzer minimises every new input, which takes
	// long on kilobyte-sized ones.
	b := newBuilder(&memSpool{}, 1)
	for i, r := range []string{evalRecords[1], evalRecords[2], evalRecords[9],
		malRec("MAL-W", "w", "1.0.0", "2025-01-01T00:00:00Z", `"withdrawn":"2025-01-01T00:00:00Z"`)} {
		c, err := compile([]byte(r))
		if errors.Is(err, errNotNPM) {
			continue
		}
		if err != nil {
			f.Fatal(err)
		}
		b.add(0, string(rune('a'+i)), c)
	}
	if _, err := b.finish(context.Background(), &recs, &idx); err != nil {
		f.Fatal(err)
	}
	valid := idx.Bytes()
	f.Add(valid, "multi", "1.0.4")
	f.Add(valid, "fixed", "1.0.0")
	f.Add(valid[:len(valid)/2], "fixed", "1.0.0")
	f.Add([]byte(indexMagic), "a", "1.0.0")
	f.Fuzz(func(t *testing.T, data []byte, name, version string) {
		// Patch the header's blob length to fit, so that mutations reach
		// the decoders instead of all failing the size check.
		if len(data) >= headerSize {
			names := uint64(binary.LittleEndian.Uint32(data[12:]))
			recs := uint64(binary.LittleEndian.Uint32(data[16:]))
			slots := uint64(binary.LittleEndian.Uint32(data[36:]))
			if fixed := headerSize + 4*names + 8*slots + recRowSize*recs; fixed <= uint64(len(data)) {
				binary.LittleEndian.PutUint32(data[20:], uint32(uint64(len(data))-fixed))
			}
		}
		x, err := parseIndex(data, false)
		if err != nil {
			return
		}
		db := &DB{x: x, recs: bytes.NewReader(recs.Bytes()), recLen: int64(recs.Len()), cache: map[uint32]*Record{}}
		db.Match(name, version)
		db.withdrawnIDs()
		q := prepare(newQuery(version))
		for i := 0; i < x.nameCount && i < 64; i++ {
			_, d := x.nameAt(i)
			if d.err != nil {
				continue
			}
			forEntries(d, x.recordCount, func(rec uint32, e []byte) error {
				matchEncoded(e, &q)
				encodedBounds(e, nil, nil)
				if m, err := x.record(rec); err == nil {
					x.recordID(m)
					db.load(rec, m)
				}
				return nil
			})
		}
	})
}
