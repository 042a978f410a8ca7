package advisory

import (
	"strings"
	"time"
)

// Multi matches against several databases at once — typically the
// imported one and the embedded snapshot, so that records shipped with the
// binary always apply even when the imported database is stale. A record
// found in several layers is reported once: the copy with the newest
// modified time wins (the earlier layer on a tie), and a record that a
// layer knows as withdrawn at least as recently is dropped.
type Multi struct {
	layers []*DB
}

// NewMulti layers the given databases; nil ones are skipped.
func NewMulti(layers ...*DB) *Multi {
	m := &Multi{}
	for _, db := range layers {
		if db != nil {
			m.layers = append(m.layers, db)
		}
	}
	return m
}

// Match returns the records affecting name@version across all layers.
func (m *Multi) Match(name, version string) ([]Match, error) {
	var hits []hit
	for _, db := range m.layers {
		hs, err := db.lookup(name, version)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			i := indexOfID(hits, h.id)
			switch {
			case i < 0:
				hits = append(hits, h)
			case h.meta.modified > hits[i].meta.modified:
				hits[i] = h
			}
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	kept := hits[:0]
	for _, h := range hits {
		withdrawn := false
		for _, db := range m.layers {
			wd, err := db.withdrawnIDs()
			if err != nil {
				return nil, err
			}
			if mod, ok := wd[h.id]; ok && mod >= h.meta.modified {
				withdrawn = true
				break
			}
		}
		if !withdrawn {
			kept = append(kept, h)
		}
	}
	return loadMatches(name, version, kept)
}

func indexOfID(hits []hit, id string) int {
	for i := range hits {
		if hits[i].id == id {
			return i
		}
	}
	return -1
}

// Info describes the layers: records is their sum (an upper bound, as
// layers overlap), built the newest layer's build time.
func (m *Multi) Info() Info {
	var info Info
	var srcs []string
	for _, db := range m.layers {
		li := db.Info()
		info.Layers = append(info.Layers, li)
		info.Records += li.Records
		srcs = append(srcs, li.Source)
		if li.Built.After(info.Built) {
			info.Built = li.Built
		}
		info.Embedded = info.Embedded || li.Embedded
	}
	info.Source = strings.Join(srcs, " + ")
	if len(m.layers) == 0 {
		info.Built = time.Time{}
	}
	return info
}

// Close closes every layer.
func (m *Multi) Close() error {
	var first error
	for _, db := range m.layers {
		if err := db.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
