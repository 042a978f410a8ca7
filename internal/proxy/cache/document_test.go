package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDocumentRoundTrip(t *testing.T) {
	fetched := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		key  string
		doc  Document
	}{
		{"packument", "https://registry.npmjs.org|left-pad|full", Document{
			Body: []byte(`{"name":"left-pad"}`), ContentType: "application/json", ETag: `"abc"`,
			LastModified: "Tue, 01 Dec 2026 10:00:00 GMT", FetchedAt: fetched,
		}},
		{"abbreviated, no validators", "u|@scope/pkg|corgi", Document{
			Body: []byte(`{}`), ContentType: "application/vnd.npm.install-v1+json", FetchedAt: fetched,
		}},
		{"empty body", "u|empty|full", Document{Body: []byte{}, FetchedAt: fetched}},
		{"binary body", "u|bin|full", Document{Body: randomBytes(1, 300_000), FetchedAt: fetched}},
		{"key with path characters", "../../etc/passwd\x00|/|..", Document{Body: []byte("x"), FetchedAt: fetched}},
		{"ETag with quotes and controls", "u|q|full", Document{Body: []byte("q"), ETag: "W/\"a\\\"b\"\t\x01", FetchedAt: fetched}},
	}
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.PutDocument(tt.key, &tt.doc); err != nil {
				t.Fatalf("PutDocument: %v", err)
			}
			checkDocument(t, c, tt.key, &tt.doc)
		})
	}
	checkConsistent(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// Everything is still there after a restart.
	c = openCache(t, dir, 0)
	for _, tt := range tests {
		checkDocument(t, c, tt.key, &tt.doc)
	}
	if st := c.Stats(); st.Documents != len(tests) || st.Tarballs != 0 || st.Entries != len(tests) {
		t.Errorf("after reopen: %+v", st)
	}
	checkConsistent(t, c)
}

func checkDocument(t testing.TB, c *Cache, key string, want *Document) {
	t.Helper()
	got, err := c.Document(key)
	if err != nil {
		t.Fatalf("Document(%q): %v", key, err)
	}
	if !bytes.Equal(got.Body, want.Body) || got.ContentType != want.ContentType || got.ETag != want.ETag ||
		got.LastModified != want.LastModified || !got.FetchedAt.Equal(want.FetchedAt) {
		t.Fatalf("Document(%q) = {%d bytes, %q, %q, %q, %v}, want {%d bytes, %q, %q, %q, %v}", key,
			len(got.Body), got.ContentType, got.ETag, got.LastModified, got.FetchedAt,
			len(want.Body), want.ContentType, want.ETag, want.LastModified, want.FetchedAt)
	}
}

func TestDocumentMissAndStats(t *testing.T) {
	c := openCache(t, "", 0)
	_, err := c.Document("nothing")
	mustMiss(t, err)
	_, _, err = c.DocumentFile("nothing")
	mustMiss(t, err)
	mustMiss(t, c.Touch("nothing", time.Now()))
	if err := c.PutDocument("k", &Document{Body: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Document("k"); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Hits != 1 || st.Misses != 2 || st.Bytes != 1 || st.Documents != 1 {
		t.Errorf("stats %+v: want 1 hit, 2 misses, 1 byte, 1 document", st)
	}
}

func TestDocumentZeroFetchedAtIsNow(t *testing.T) {
	c := openCache(t, "", 0)
	before := time.Now()
	if err := c.PutDocument("k", &Document{Body: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Document("k")
	if err != nil {
		t.Fatal(err)
	}
	if d.FetchedAt.Before(before) || d.FetchedAt.After(time.Now()) {
		t.Errorf("FetchedAt %v, want the time of PutDocument", d.FetchedAt)
	}
}

func TestDocumentInvalidInput(t *testing.T) {
	c := openCache(t, "", 0)
	for _, tt := range []struct {
		name string
		key  string
		doc  *Document
	}{
		{"empty key", "", &Document{}},
		{"key too long", strings.Repeat("k", maxKeyLen+1), &Document{}},
		{"key not UTF-8", "a\xffb", &Document{}},
		{"nil document", "k", nil},
		{"huge ETag", "k", &Document{ETag: strings.Repeat("e", maxHeaderLen+1)}},
		{"Last-Modified not UTF-8", "k", &Document{LastModified: "\xfe"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.PutDocument(tt.key, tt.doc); err == nil {
				t.Error("PutDocument accepted it")
			}
		})
	}
	for _, key := range []string{"", strings.Repeat("k", maxKeyLen+1)} {
		if _, err := c.Document(key); err == nil || errors.Is(err, ErrMiss) {
			t.Errorf("Document(%.10q…): %v, want an error other than a miss", key, err)
		}
	}
	checkConsistent(t, c)
}

func TestTouchChangesOnlyFetchedAt(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	orig := &Document{Body: []byte(`{"v":1}`), ContentType: "application/json", ETag: `"e1"`, LastModified: "lm",
		FetchedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := c.PutDocument("k", orig); err != nil {
		t.Fatal(err)
	}
	later := orig.FetchedAt.Add(90 * time.Minute)
	if err := c.Touch("k", later); err != nil {
		t.Fatal(err)
	}
	want := *orig
	want.FetchedAt = later
	checkDocument(t, c, "k", &want)
	checkConsistent(t, c)
	c.Close()
	c = openCache(t, dir, 0)
	checkDocument(t, c, "k", &want) // the revalidation was persisted
}

func TestPutDocumentReplaces(t *testing.T) {
	c := openCache(t, "", 0)
	for i, body := range []string{"first version", "second, longer version", "3rd"} {
		if err := c.PutDocument("k", &Document{Body: []byte(body), ETag: body}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		checkDocument(t, c, "k", &Document{Body: []byte(body), ETag: body, FetchedAt: mustDoc(t, c, "k").FetchedAt})
		checkConsistent(t, c) // the replaced body file is gone
	}
	if st := c.Stats(); st.Documents != 1 || st.Bytes != 3 {
		t.Errorf("stats %+v, want one 3-byte document", st)
	}
}

func mustDoc(t testing.TB, c *Cache, key string) *Document {
	t.Helper()
	d, err := c.Document(key)
	if err != nil {
		t.Fatalf("Document(%q): %v", key, err)
	}
	return d
}

// A reader that opened a document keeps reading the old bytes while it is
// replaced and evicted.
func TestDocumentFileSurvivesReplacement(t *testing.T) {
	c := openCache(t, "", 0)
	old := randomBytes(2, 1<<20)
	if err := c.PutDocument("k", &Document{Body: old, ETag: "old"}); err != nil {
		t.Fatal(err)
	}
	f, d, err := c.DocumentFile("k")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if d.ETag != "old" || d.Body != nil {
		t.Fatalf("metadata %+v", d)
	}
	head := make([]byte, 1000)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	if err := c.PutDocument("k", &Document{Body: []byte("new"), ETag: "new"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDocument("k"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), old) {
		t.Error("the open file changed under its reader")
	}
	_, err = c.Document("k")
	mustMiss(t, err)
	checkConsistent(t, c)
}

func TestDocumentLargerThanCapIsNotCached(t *testing.T) {
	c := openCache(t, "", 100)
	if err := c.PutDocument("k", &Document{Body: make([]byte, 60), ETag: "small"}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutDocument("k", &Document{Body: make([]byte, 101), ETag: "big"}); err != nil {
		t.Fatalf("PutDocument of an oversized body: %v", err)
	}
	_, err := c.Document("k") // not the stale small version either
	mustMiss(t, err)
	if st := c.Stats(); st.TooLarge != 1 || st.Entries != 0 || st.Bytes != 0 {
		t.Errorf("stats %+v", st)
	}
	checkConsistent(t, c)
}

func TestClosedCache(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	if err := c.PutDocument("k", &Document{Body: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	w, err := c.CreateTarball(sha512SRI([]byte("t")))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("t"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v", err)
	}
	if _, err := c.Document("k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Document after Close: %v", err)
	}
	if err := c.PutDocument("k", &Document{}); !errors.Is(err, ErrClosed) {
		t.Errorf("PutDocument after Close: %v", err)
	}
	if err := c.Touch("k", time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Touch after Close: %v", err)
	}
	if _, _, err := c.OpenTarball(sha512SRI([]byte("t"))); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenTarball after Close: %v", err)
	}
	if _, err := c.CreateTarball(sha512SRI([]byte("t"))); !errors.Is(err, ErrClosed) {
		t.Errorf("CreateTarball after Close: %v", err)
	}
	if tmp := listTemp(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestOpenLocksTheDirectory(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir, 0)
	if _, err := Open(t.Context(), Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of one directory: %v, want an in-use error", err)
	}
	c.Close()
	c2, err := Open(t.Context(), Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	c2.Close()
}

func TestOpenOptions(t *testing.T) {
	if _, err := Open(t.Context(), Options{}); err == nil {
		t.Error("Open without a directory succeeded")
	}
	if _, err := Open(t.Context(), Options{Dir: t.TempDir(), MaxBytes: -1}); err == nil {
		t.Error("Open with a negative cap succeeded")
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(cancelled, Options{Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
	c, err := Open(t.Context(), Options{Dir: dir}) // the failed Open released the lock
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Stats(); st.MaxBytes != DefaultMaxBytes {
		t.Errorf("default cap %d", st.MaxBytes)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %v, want 0700", perm)
	}
}
