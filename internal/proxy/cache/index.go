package cache

import (
	"container/list"
	"path/filepath"
	"time"
)

type entryKind uint8

const (
	kindDocument entryKind = iota + 1
	kindTarball
)

// entry is one cached document or tarball as the index knows it.
type entry struct {
	id        string // docID or tarballKey.id
	kind      entryKind
	dir       string // the directory holding its files
	file      string // the data file (body or tarball) within dir
	size      int64  // the data file's length
	access    time.Time
	persisted time.Time // the data file's mtime as last set: access as Open will see it
	elem      *list.Element
	meta      *docMeta // documents only; replaced on change, never mutated
}

func (e *entry) path() string { return filepath.Join(e.dir, e.file) }

// files lists what to delete to drop the entry, commit point first: once a
// document's sidecar is gone its body is an orphan Open would remove.
func (e *entry) files() []string {
	if e.kind == kindDocument {
		return []string{filepath.Join(e.dir, metaFileName(e.meta.hashOf())), e.path()}
	}
	return []string{e.path()}
}

func (m *docMeta) hashOf() string { return keyHash(m.Key) }

// index is the in-memory view of the cache: entries by id, in LRU order
// (front = most recently used), and their total size. It does no I/O and
// no locking; Cache holds its mutex around every call.
type index struct {
	entries map[string]*entry
	lru     list.List
	bytes   int64
	docs    int
}

func newIndex() *index { return &index{entries: map[string]*entry{}} }

func (x *index) get(id string) *entry { return x.entries[id] }

// put adds e as the most recently used entry and returns the entry it
// replaces, if any. (Open puts entries oldest first to rebuild the order.)
func (x *index) put(e *entry) (old *entry) {
	old = x.entries[e.id]
	if old != nil {
		x.remove(old)
	}
	x.entries[e.id] = e
	e.elem = x.lru.PushFront(e)
	x.account(e, +1)
	return old
}

// remove drops e if it is still the indexed entry for its id; it reports
// whether it did.
func (x *index) remove(e *entry) bool {
	if x.entries[e.id] != e {
		return false
	}
	delete(x.entries, e.id)
	x.lru.Remove(e.elem)
	x.account(e, -1)
	return true
}

func (x *index) account(e *entry, sign int) {
	x.bytes += int64(sign) * e.size
	if e.kind == kindDocument {
		x.docs += sign
	}
}

// use marks e as used at now.
func (x *index) use(e *entry, now time.Time) {
	if now.After(e.access) {
		e.access = now
	}
	x.lru.MoveToFront(e.elem)
}

// oldest is the least recently used entry, nil when empty.
func (x *index) oldest() *entry {
	if back := x.lru.Back(); back != nil {
		return back.Value.(*entry)
	}
	return nil
}
