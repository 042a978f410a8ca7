package advisory

import (
	"bytes"
	"context"
	"flag"
	"os"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite snapshot.db from snapshot/")

// TestSnapshotPrebuilt keeps snapshot.db in step with snapshot/. After
// adding or changing records there, run `go generate ./internal/advisory`.
func TestSnapshotPrebuilt(t *testing.T) {
	digest, err := snapshotDigest(snapshot, snapshotDir)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := buildSnapshotBlob(context.Background(), snapshot, snapshotDir, snapshotName, digest)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("snapshot.db", blob, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote snapshot.db (%d bytes)", len(blob))
		return
	}
	if !bytes.Equal(blob, prebuilt) {
		t.Fatal("snapshot.db was not built from the current snapshot/ (scans fall back to a slower build): run `go generate ./internal/advisory`")
	}
	again, err := buildSnapshotBlob(context.Background(), snapshot, snapshotDir, snapshotName, digest)
	if err != nil || !bytes.Equal(again, blob) {
		t.Error("snapshot build is not deterministic")
	}
}

// TestOpenFSFallback: a stale or damaged prebuilt blob is never used.
func TestOpenFSFallback(t *testing.T) {
	fsys := fstest.MapFS{"s/MAL-1.json": {Data: []byte(malRec("MAL-1", "p", "1.0.0", "2025-01-01T00:00:00Z"))}}
	digest, _ := snapshotDigest(fsys, "s")
	blob, err := buildSnapshotBlob(context.Background(), fsys, "s", "t", digest)
	if err != nil {
		t.Fatal(err)
	}
	// The files change after the blob was built.
	fsys["s/MAL-2.json"] = &fstest.MapFile{Data: []byte(malRec("MAL-2", "q", "1.0.0", "2025-01-01T00:00:00Z"))}
	damaged := bytes.Clone(blob)
	damaged[len(damaged)-1] ^= 1
	for name, b := range map[string][]byte{"stale": blob, "damaged": damaged, "empty": nil, "short": blob[:20]} {
		db, err := openFS(context.Background(), fsys, "s", "t", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ids := matchIDs(t, db, "q", "1.0.0"); len(ids) != 1 {
			t.Errorf("%s blob used: q matched %v", name, ids)
		}
	}
	digest, _ = snapshotDigest(fsys, "s")
	fresh, _ := buildSnapshotBlob(context.Background(), fsys, "s", "t", digest)
	if _, err := parseSnapshotBlob(fresh, digest, "t"); err != nil {
		t.Errorf("fresh blob rejected: %v", err)
	}
	fresh[len(fresh)-1] ^= 1 // in the records: caught when the record loads
	db, err := parseSnapshotBlob(fresh, digest, "t")
	if err == nil {
		_, err = db.Match("q", "1.0.0")
	}
	if err == nil {
		t.Error("damage in a fresh blob went unnoticed")
	}
}
