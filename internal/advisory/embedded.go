package advisory

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// snapshot holds curated real OSV records shipped inside the binary, plus
// the optional lastgood.json (package → {affected version → last good
// version before it}).
//
//go:embed snapshot/*.json
var snapshot embed.FS

const lastGoodFile = "lastgood.json"

var (
	embeddedOnce sync.Once
	embeddedDB   *DB
	embeddedErr  error

	lastGoodOnce sync.Once
	lastGoodMap  map[string]map[string]string
	lastGoodErr  error
)

// OpenEmbedded returns the database built from the embedded snapshot. It
// is built in memory on first use (a few milliseconds) and shared; Close
// on it does nothing.
func OpenEmbedded() (*DB, error) {
	embeddedOnce.Do(func() {
		embeddedDB, embeddedErr = buildFS(context.Background(), snapshot, "snapshot", "embedded snapshot")
		if embeddedErr == nil {
			embeddedDB.info.Embedded = true
			_, embeddedErr = lastGoodTable()
		}
	})
	return embeddedDB, embeddedErr
}

// buildFS builds an in-memory DB from the *.json records under dir of fsys.
func buildFS(ctx context.Context, fsys fs.FS, dir, source string) (*DB, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	b := newBuilder(&memSpool{}, 1)
	var newest int64
	produce := func(ctx context.Context, items chan<- item) error {
		for _, e := range entries {
			if e.IsDir() || path.Ext(e.Name()) != ".json" || e.Name() == lastGoodFile {
				continue
			}
			p := path.Join(dir, e.Name())
			it := item{path: p, read: func() ([]byte, error) { return fs.ReadFile(fsys, p) }}
			select {
			case items <- it:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	if err := runPipeline(ctx, 0, produce, b); err != nil {
		return nil, fmt.Errorf("building %s: %w", source, err)
	}
	if len(b.problems) > 0 {
		// The snapshot is curated: a broken file is a build mistake.
		return nil, fmt.Errorf("%s: %d invalid records, first: %s", source, b.counts.Invalid, b.problems[0])
	}
	for _, p := range b.byID {
		newest = max(newest, p.c.modified)
	}
	var recs, idx bytes.Buffer
	counts, err := b.finish(ctx, &recs, &idx)
	if err != nil {
		return nil, err
	}
	x, err := parseIndex(idx.Bytes(), false)
	if err != nil {
		return nil, err
	}
	info := Info{Source: source, Records: counts.Records}
	if newest > 0 {
		// The snapshot's date is that of its newest record.
		info.Built = time.Unix(0, newest).UTC()
	}
	return &DB{x: x, recs: bytes.NewReader(recs.Bytes()), recLen: int64(recs.Len()), info: info, cache: make(map[uint32]*Record)}, nil
}

// lastGoodTable reads snapshot/lastgood.json when the curator provided one.
func lastGoodTable() (map[string]map[string]string, error) {
	lastGoodOnce.Do(func() {
		data, err := snapshot.ReadFile("snapshot/" + lastGoodFile)
		if err != nil {
			return // absent: no last-good hints
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			lastGoodErr = fmt.Errorf("embedded %s: %w", lastGoodFile, err)
			return
		}
		// Keys are compared in canonical form, as versions lists are.
		lastGoodMap = make(map[string]map[string]string, len(raw))
		for name, rawVersions := range raw {
			if strings.HasPrefix(name, "_") {
				continue // metadata such as "_generated"; no npm name starts with _
			}
			var vs map[string]string
			if err := json.Unmarshal(rawVersions, &vs); err != nil {
				lastGoodErr = fmt.Errorf("embedded %s: %s: %w", lastGoodFile, name, err)
				return
			}
			m := make(map[string]string, len(vs))
			for v, good := range vs {
				m[canonicalString(v)] = good
			}
			lastGoodMap[name] = m
		}
	})
	return lastGoodMap, lastGoodErr
}

// lastGood is the curated last good release before name@version, or "".
func lastGood(name, version string) string {
	t, _ := lastGoodTable()
	return t[name][canonicalString(version)]
}
