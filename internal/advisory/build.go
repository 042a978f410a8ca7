package advisory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

// compiled is one record reduced to what the index needs; raw is the
// record's binary form (recordcodec.go), loaded again only when it matches.
type compiled struct {
	id        string
	modified  int64 // unix ns, 0 when unknown
	withdrawn bool
	malicious bool
	sev       Severity
	entries   []compiledEntry
	raw       []byte
}

type compiledEntry struct {
	name  string
	entry []byte
}

var errNotNPM = errors.New("affects no npm package")

// compile decodes a record and encodes its npm entries. It decodes the
// full Record, not a slimmer struct, so that every record the index
// accepts is one the scan can load when it matches.
func compile(raw []byte) (*compiled, error) {
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, errors.New("record has no id")
	}
	c := &compiled{id: r.ID, modified: unixNano(r.Modified), withdrawn: r.IsWithdrawn()}
	for i := range r.Affected {
		a := &r.Affected[i]
		if name := a.npmName(); name != "" {
			c.entries = append(c.entries, compiledEntry{name: name, entry: encodeAffected(nil, a)})
		}
	}
	if len(c.entries) == 0 {
		return nil, errNotNPM
	}
	c.malicious, c.sev = r.Classify()
	c.raw = encodeRecord(make([]byte, 0, len(raw)/2), &r)
	return c, nil
}

// unixNano clamps to the range UnixNano can represent.
func unixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Year() < 1678:
		return minTime
	case t.Year() > 2261:
		return maxTime
	}
	return t.UnixNano()
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

// Counts summarises a build.
type Counts struct {
	Records    int `json:"records"`    // records in the index
	Malware    int `json:"malware"`    // of which malware
	Withdrawn  int `json:"withdrawn"`  // withdrawn records left out
	Invalid    int `json:"invalid"`    // files that were not OSV records
	NotNPM     int `json:"not_npm"`    // records for other ecosystems
	Duplicates int `json:"duplicates"` // same id seen again (newest kept)
	Packages   int `json:"packages"`   // distinct npm package names
}

// spool holds encoded records between compile and the final, id-ordered write.
type spool interface {
	put([]byte) (int64, error)
	get(off int64, n int) ([]byte, error)
}

type memSpool struct{ b []byte }

func (m *memSpool) put(p []byte) (int64, error) {
	off := len(m.b)
	m.b = append(m.b, p...)
	return int64(off), nil
}

func (m *memSpool) get(off int64, n int) ([]byte, error) { return m.b[off : off+int64(n)], nil }

// fileSpool appends through a buffer (one write per record would be a
// syscall per record) and flushes before the first read.
type fileSpool struct {
	f    *os.File
	w    *bufio.Writer
	size int64
}

func (s *fileSpool) put(p []byte) (int64, error) {
	if s.w == nil {
		s.w = bufio.NewWriterSize(s.f, 1<<20)
	}
	off := s.size
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	s.size += int64(len(p))
	return off, nil
}

func (s *fileSpool) get(off int64, n int) ([]byte, error) {
	if s.w != nil && s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			return nil, err
		}
	}
	b := make([]byte, n)
	_, err := s.f.ReadAt(b, off)
	return b, err
}

// builder deduplicates compiled records by id and writes the index.
type builder struct {
	spool     spool
	byID      map[string]*pending
	counts    Counts
	problems  []string
	perSource []int
}

type pending struct {
	c    *compiled
	src  int
	path string
	off  int64
	size int
}

const maxProblems = 20

func newBuilder(sp spool, sources int) *builder {
	return &builder{spool: sp, byID: make(map[string]*pending), perSource: make([]int, sources)}
}

func (b *builder) problem(path string, err error) {
	b.counts.Invalid++
	if len(b.problems) < maxProblems {
		b.problems = append(b.problems, fmt.Sprintf("%s: %v", path, err))
	}
}

// add keeps the newest version of each id; on equal modified times the
// earlier source (then the smaller path) wins, so builds are deterministic
// whatever order the workers finish in.
func (b *builder) add(src int, path string, c *compiled) error {
	b.perSource[src]++
	if prev, ok := b.byID[c.id]; ok {
		b.counts.Duplicates++
		newer := c.modified > prev.c.modified ||
			(c.modified == prev.c.modified && (src < prev.src || (src == prev.src && path < prev.path)))
		if !newer {
			return nil
		}
	}
	off, err := b.spool.put(c.raw)
	if err != nil {
		return fmt.Errorf("spooling %s: %w", c.id, err)
	}
	size := len(c.raw)
	c.raw = nil
	b.byID[c.id] = &pending{c: c, src: src, path: path, off: off, size: size}
	return nil
}

// finish writes records (id order) and the index, and returns counts.
func (b *builder) finish(ctx context.Context, records, idx io.Writer) (Counts, error) {
	ids := make([]string, 0, len(b.byID))
	for id := range b.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var (
		recs      []recMeta
		keptIDs   []string
		withdrawn []withdrawnID
		byName    = make(map[string][]entryRef)
		off       uint64
	)
	for i, id := range ids {
		if i%1024 == 0 && ctx.Err() != nil {
			return Counts{}, ctx.Err()
		}
		p := b.byID[id]
		if p.c.withdrawn {
			withdrawn = append(withdrawn, withdrawnID{id: id, modified: p.c.modified})
			b.counts.Withdrawn++
			continue
		}
		raw, err := b.spool.get(p.off, p.size)
		if err != nil {
			return Counts{}, fmt.Errorf("reading spooled %s: %w", id, err)
		}
		if _, err := records.Write(raw); err != nil {
			return Counts{}, err
		}
		m := recMeta{off: off, size: uint32(len(raw)), crc: crc32.Checksum(raw, castagnoli), modified: p.c.modified, sev: p.c.sev}
		if p.c.malicious {
			m.flags |= flagMalicious
			b.counts.Malware++
		}
		off += uint64(len(raw))
		rec := uint32(len(recs))
		recs = append(recs, m)
		keptIDs = append(keptIDs, id)
		for _, e := range p.c.entries {
			byName[e.name] = append(byName[e.name], entryRef{rec: rec, entry: e.entry})
		}
	}
	names := make([]nameEntries, 0, len(byName))
	for name, es := range byName {
		names = append(names, nameEntries{name: name, entries: es})
	}
	slices.SortFunc(names, func(a, b nameEntries) int { return cmpStr(a.name, b.name) })
	b.counts.Records = len(recs)
	b.counts.Packages = len(names)
	return b.counts, writeIndex(idx, names, recs, keptIDs, withdrawn)
}

// item is one file that holds one OSV record or a JSON array of them.
type item struct {
	src  int
	path string
	read func() ([]byte, error)
}

type result struct {
	src      int
	path     string
	compiled []*compiled
	notNPM   int
	invalid  []error
}

// compileData compiles one file's records.
func compileData(data []byte) (cs []*compiled, notNPM int, invalid []error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	var raws []json.RawMessage
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, 0, []error{err}
		}
	} else {
		raws = []json.RawMessage{trimmed}
	}
	for _, raw := range raws {
		c, err := compile(raw)
		switch {
		case errors.Is(err, errNotNPM):
			notNPM++
		case err != nil:
			invalid = append(invalid, err)
		default:
			cs = append(cs, c)
		}
	}
	return cs, notNPM, invalid
}

// runPipeline reads and compiles items on all cores and feeds the builder
// from one goroutine. produce must stop when ctx is done.
func runPipeline(ctx context.Context, workers int, produce func(context.Context, chan<- item) error, b *builder) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan item, workers*4)
	results := make(chan result, workers*4)
	var prodErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(items)
		prodErr = produce(ctx, items)
	}()
	var workersWG sync.WaitGroup
	for range workers {
		workersWG.Add(1)
		go func() {
			defer workersWG.Done()
			for it := range items {
				var res result
				res.src, res.path = it.src, it.path
				data, err := it.read()
				if err != nil {
					res.invalid = []error{err}
				} else {
					res.compiled, res.notNPM, res.invalid = compileData(data)
				}
				select {
				case results <- res:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		workersWG.Wait()
		close(results)
	}()
	var addErr error
	for res := range results {
		if addErr != nil {
			continue // drain so workers can exit
		}
		b.counts.NotNPM += res.notNPM
		for _, err := range res.invalid {
			b.problem(res.path, err)
		}
		for _, c := range res.compiled {
			if err := b.add(res.src, res.path, c); err != nil {
				addErr = err
				cancel()
				break
			}
		}
	}
	wg.Wait()
	switch {
	case addErr != nil:
		return addErr
	case prodErr != nil:
		return prodErr
	}
	return ctx.Err()
}
