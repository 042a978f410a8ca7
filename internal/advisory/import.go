package advisory

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Source is one place advisory records come from: an OSV.dev-style zip of
// one JSON record per file, a folder of records searched recursively (like
// ossf/malicious-packages' osv/ tree), a single JSON record or array of
// records, or an http(s) URL to a zip or JSON file.
type Source struct {
	Location string `json:"location"`
}

// IsRemote reports whether the source is fetched over HTTP.
func (s Source) IsRemote() bool {
	l := strings.ToLower(s.Location)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// SourceState records how a source went into a build, so that Update can
// ask the server whether it changed.
type SourceState struct {
	Location     string `json:"location"`
	Kind         string `json:"kind"` // zip, dir or json
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// SHA256 is the file's digest; for a folder, the digest of its listing
	// (paths, sizes, modification times).
	SHA256  string    `json:"sha256"`
	Fetched time.Time `json:"fetched"`
	Records int       `json:"records"` // npm records read from it, before dedup
}

// Manifest describes one build of the database.
type Manifest struct {
	Format      int           `json:"format"`
	Built       time.Time     `json:"built"`
	Sources     []SourceState `json:"sources"`
	Counts      Counts        `json:"counts"`
	Problems    []string      `json:"problems,omitempty"` // the first invalid files
	IndexBytes  int64         `json:"index_bytes"`
	RecordBytes int64         `json:"record_bytes"`
}

// ImportOptions bound and equip an import; zero values pick defaults.
type ImportOptions struct {
	// Client fetches URL sources. Nil means a client with a 15-minute
	// overall timeout, never http.DefaultClient (which has none).
	Client    *http.Client
	UserAgent string
	// MaxDownload bounds a downloaded file and a single local JSON file
	// (default 1 GiB).
	MaxDownload int64
	// MaxRecordSize bounds one record file in a zip or folder (16 MiB).
	MaxRecordSize int64
	// MaxUncompressed bounds the declared uncompressed size of a zip
	// (8 GiB) and MaxEntries its entry count (5,000,000).
	MaxUncompressed int64
	MaxEntries      int
	// Workers decoding records in parallel (GOMAXPROCS).
	Workers int
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (o ImportOptions) withDefaults() ImportOptions {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 15 * time.Minute}
	}
	if o.UserAgent == "" {
		o.UserAgent = "vigil-advisory-import"
	}
	if o.MaxDownload <= 0 {
		o.MaxDownload = 1 << 30
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = 16 << 20
	}
	if o.MaxUncompressed <= 0 {
		o.MaxUncompressed = 8 << 30
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 5_000_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// fetched is a source made local for a build.
type fetched struct {
	state SourceState
	path  string // local file or folder; "" after a 304
	// unchanged: the server answered 304 or the content digest is the
	// previous one.
	unchanged bool
}

// Import builds a new database in dir from all the given sources and
// swaps it in atomically: the new generation is written and synced beside
// the current one, then the CURRENT pointer is replaced with a rename, so a
// crash at any point leaves the previous database usable. Old generations
// are removed afterwards.
func Import(ctx context.Context, dir string, sources []Source, opts ImportOptions) (*Manifest, error) {
	if len(sources) == 0 {
		return nil, errors.New("import: no sources given")
	}
	opts = opts.withDefaults()
	srcs := make([]Source, len(sources))
	for i, s := range sources {
		if !s.IsRemote() {
			abs, err := filepath.Abs(s.Location)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", s.Location, err)
			}
			s.Location = abs
		}
		srcs[i] = s
	}
	return withLockedDir(dir, func(tmp string) (*Manifest, error) {
		got := make([]*fetched, len(srcs))
		for i, s := range srcs {
			f, err := fetchSource(ctx, s, nil, tmp, i, opts)
			if err != nil {
				return nil, err
			}
			got[i] = f
		}
		return buildInto(ctx, tmp, got, opts)
	})
}

// UpdateResult says what Update did.
type UpdateResult struct {
	Updated  bool      // false: every source was unchanged, nothing rebuilt
	Manifest *Manifest // the database now in place
}

// Update re-imports the sources of the current database, asking servers
// with If-None-Match/If-Modified-Since and comparing digests of local
// files; when nothing changed it rebuilds nothing.
func Update(ctx context.Context, dir string, opts ImportOptions) (*UpdateResult, error) {
	opts = opts.withDefaults()
	var res UpdateResult
	_, err := withLockedDir(dir, func(tmp string) (*Manifest, error) {
		gen, err := currentGen(dir)
		if err != nil {
			return nil, err
		}
		prev, err := readManifest(filepath.Join(dir, gen))
		if err != nil {
			return nil, err
		}
		if len(prev.Sources) == 0 {
			return nil, fmt.Errorf("update: the database in %s lists no sources", dir)
		}
		got := make([]*fetched, len(prev.Sources))
		changed := false
		for i, st := range prev.Sources {
			st := st
			f, err := fetchSource(ctx, Source{Location: st.Location}, &st, tmp, i, opts)
			if err != nil {
				return nil, err
			}
			got[i] = f
			changed = changed || !f.unchanged
		}
		if !changed {
			res.Manifest = prev
			return nil, errNothingToCommit
		}
		// A 304 has no body: fetch those sources again, unconditionally.
		for i, f := range got {
			if f.path == "" {
				if got[i], err = fetchSource(ctx, Source{Location: f.state.Location}, nil, tmp, i, opts); err != nil {
					return nil, err
				}
			}
		}
		m, err := buildInto(ctx, tmp, got, opts)
		if err != nil {
			return nil, err
		}
		res.Updated, res.Manifest = true, m
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// DBStatus describes the database in a folder.
type DBStatus struct {
	Dir string `json:"dir"`
	Manifest
	Age time.Duration `json:"age"`
}

// Status reads the manifest of the database in dir (ErrNoDB when none)
// and checks that its index is readable.
func Status(dir string) (*DBStatus, error) {
	db, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	gen, err := currentGen(dir)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(filepath.Join(dir, gen))
	if err != nil {
		return nil, err
	}
	return &DBStatus{Dir: dir, Manifest: *m, Age: time.Since(m.Built)}, nil
}

func readManifest(genDir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(genDir, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("reading advisory database manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, corrupt("%s: %v", filepath.Join(genDir, manifestFile), err)
	}
	return &m, nil
}

var errNothingToCommit = errors.New("nothing to commit")

// withLockedDir runs build with a fresh temporary folder inside dir while
// holding dir's lock, then commits that folder as the current generation.
// build returning errNothingToCommit discards the folder without error.
func withLockedDir(dir string, build func(tmp string) (*Manifest, error)) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating advisory database folder: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dir, lockFile))
	if err != nil {
		return nil, err
	}
	defer unlock()
	cleanup(dir, "") // leftovers of a crashed import; we hold the lock
	tmp, err := os.MkdirTemp(dir, tmpPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating advisory database folder: %w", err)
	}
	m, err := build(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, errNothingToCommit) {
			return nil, nil
		}
		return nil, err
	}
	gen, err := commit(dir, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	cleanup(dir, gen)
	return m, nil
}

// commit renames the built folder to a generation and points CURRENT at
// it; the CURRENT rename is the single commit point.
func commit(dir, tmp string) (string, error) {
	gen := genPrefix + strings.TrimPrefix(filepath.Base(tmp), tmpPrefix)
	if err := os.Rename(tmp, filepath.Join(dir, gen)); err != nil {
		return "", fmt.Errorf("committing advisory database: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	ptr := filepath.Join(dir, currentFile+".tmp")
	if err := writeFileSync(ptr, []byte(gen+"\n")); err != nil {
		return "", fmt.Errorf("committing advisory database: %w", err)
	}
	if err := os.Rename(ptr, filepath.Join(dir, currentFile)); err != nil {
		return "", fmt.Errorf("committing advisory database: %w", err)
	}
	return gen, syncDir(dir)
}

// cleanup removes generations and temporary folders other than keep.
// Errors are ignored: a reader may still hold files open (Windows), and
// the next import tries again.
func cleanup(dir, keep string) {
	if keep == "" {
		keep, _ = currentGen(dir)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if n == keep || !(strings.HasPrefix(n, genPrefix) || strings.HasPrefix(n, tmpPrefix)) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, n))
	}
	os.Remove(filepath.Join(dir, currentFile+".tmp"))
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes renames in dir durable. Windows cannot sync a folder;
// there the rename itself is what NTFS journals.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// fetchSource makes a source local. With prev, a URL is fetched
// conditionally and a local source is compared with prev's digest.
func fetchSource(ctx context.Context, s Source, prev *SourceState, tmp string, n int, opts ImportOptions) (*fetched, error) {
	if s.IsRemote() {
		return download(ctx, s.Location, prev, tmp, n, opts)
	}
	st, err := os.Stat(s.Location)
	if err != nil {
		return nil, fmt.Errorf("import source: %w", err)
	}
	f := &fetched{path: s.Location, state: SourceState{Location: s.Location, Fetched: opts.Now().UTC()}}
	if st.IsDir() {
		f.state.Kind = "dir"
		f.state.SHA256, err = dirDigest(ctx, s.Location)
	} else {
		f.state.Kind, f.state.SHA256, err = fileDigest(s.Location)
	}
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", s.Location, err)
	}
	f.unchanged = prev != nil && prev.SHA256 == f.state.SHA256
	return f, nil
}

// download fetches url into tmp, bounded by MaxDownload.
func download(ctx context.Context, url string, prev *SourceState, tmp string, n int, opts ImportOptions) (*fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", url, err)
	}
	req.Header.Set("User-Agent", opts.UserAgent)
	if prev != nil {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	resp, err := opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", url, err)
	}
	defer resp.Body.Close()
	f := &fetched{state: SourceState{Location: url, Fetched: opts.Now().UTC()}}
	if resp.StatusCode == http.StatusNotModified && prev != nil {
		f.unchanged = true
		f.state = *prev
		f.state.Fetched = opts.Now().UTC()
		return f, nil
	}
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, fmt.Errorf("import %s: HTTP %s: %s", url, resp.Status, strings.TrimSpace(string(snippet)))
	}
	if resp.ContentLength > opts.MaxDownload {
		return nil, fmt.Errorf("import %s: %d bytes is more than the %d-byte limit", url, resp.ContentLength, opts.MaxDownload)
	}
	path := filepath.Join(tmp, "download-"+strconv.Itoa(n))
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	written, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(resp.Body, opts.MaxDownload+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", url, err)
	}
	if written > opts.MaxDownload {
		return nil, fmt.Errorf("import %s: more than the %d-byte limit", url, opts.MaxDownload)
	}
	f.path = path
	f.state.ETag = resp.Header.Get("ETag")
	f.state.LastModified = resp.Header.Get("Last-Modified")
	f.state.SHA256 = hex.EncodeToString(h.Sum(nil))
	if f.state.Kind, err = sniffKind(path); err != nil {
		return nil, fmt.Errorf("import %s: %w", url, err)
	}
	// A server without validators still gets a cheap no-op update.
	f.unchanged = prev != nil && prev.SHA256 == f.state.SHA256
	return f, nil
}

func sniffKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if n == 4 && magic[0] == 'P' && magic[1] == 'K' && (magic[2] == 3 && magic[3] == 4 || magic[2] == 5 && magic[3] == 6) {
		return "zip", nil
	}
	return "json", nil
}

func fileDigest(path string) (kind, sum string, err error) {
	if kind, err = sniffKind(path); err != nil {
		return "", "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", "", err
	}
	return kind, hex.EncodeToString(h.Sum(nil)), nil
}

// dirDigest hashes the listing of a records folder rather than every
// byte: record files are replaced, not edited in place with the same size
// and time.
func dirDigest(ctx context.Context, root string) (string, error) {
	h := sha256.New()
	err := walkRecords(ctx, root, func(path string, d fs.DirEntry) error {
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", filepath.ToSlash(rel), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// walkRecords calls fn for every *.json file under root in lexical order,
// skipping hidden folders such as .git.
func walkRecords(ctx context.Context, root string, fn func(path string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(d.Name()), ".json") {
			return nil
		}
		return fn(path, d)
	})
}

// buildInto reads every fetched source and writes index, records and
// manifest into tmp, synced.
func buildInto(ctx context.Context, tmp string, srcs []*fetched, opts ImportOptions) (*Manifest, error) {
	spoolF, err := os.CreateTemp(tmp, "spool-")
	if err != nil {
		return nil, err
	}
	defer func() {
		spoolF.Close()
		os.Remove(spoolF.Name())
	}()
	b := newBuilder(&fileSpool{f: spoolF}, len(srcs))
	for i, f := range srcs {
		var produce func(context.Context, chan<- item) error
		var closer io.Closer
		switch f.state.Kind {
		case "dir":
			produce = produceDir(i, f.path, opts)
		case "zip":
			zr, err := zip.OpenReader(f.path)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", f.state.Location, err)
			}
			closer = zr
			if produce, err = produceZip(i, f.state.Location, &zr.Reader, opts); err != nil {
				zr.Close()
				return nil, err
			}
		default:
			produce = produceFile(i, f.path, f.state.Location, opts)
		}
		err := runPipeline(ctx, opts.Workers, produce, b)
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", f.state.Location, err)
		}
		// Replacing a good database with an empty one because a source
		// was the wrong file (or another ecosystem's) helps nobody.
		if b.perSource[i] == 0 {
			msg := "no npm OSV records"
			if len(b.problems) > 0 {
				msg += "; first problem: " + b.problems[0]
			}
			return nil, fmt.Errorf("import %s: %s", f.state.Location, msg)
		}
		if f.path != "" && strings.HasPrefix(f.path, tmp) {
			os.Remove(f.path) // a download, no longer needed
		}
	}
	recF, err := os.Create(filepath.Join(tmp, recordsFile))
	if err != nil {
		return nil, err
	}
	defer recF.Close()
	idxF, err := os.Create(filepath.Join(tmp, indexFile))
	if err != nil {
		return nil, err
	}
	defer idxF.Close()
	recW, idxW := bufio.NewWriterSize(recF, 1<<20), bufio.NewWriterSize(idxF, 1<<20)
	counts, err := b.finish(ctx, recW, idxW)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: indexVersion, Built: opts.Now().UTC(), Counts: counts, Problems: b.problems}
	for i, f := range srcs {
		st := f.state
		st.Records = b.perSource[i]
		m.Sources = append(m.Sources, st)
	}
	for _, fw := range []struct {
		w *bufio.Writer
		f *os.File
		n *int64
	}{{recW, recF, &m.RecordBytes}, {idxW, idxF, &m.IndexBytes}} {
		if err := fw.w.Flush(); err != nil {
			return nil, err
		}
		if err := fw.f.Sync(); err != nil {
			return nil, err
		}
		st, err := fw.f.Stat()
		if err != nil {
			return nil, err
		}
		*fw.n = st.Size()
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(tmp, manifestFile), data); err != nil {
		return nil, err
	}
	return m, syncDir(tmp)
}

func send(ctx context.Context, items chan<- item, it item) error {
	select {
	case items <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readBounded reads r, failing past limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than the %d-byte record limit", limit)
	}
	return data, nil
}

func produceDir(src int, root string, opts ImportOptions) func(context.Context, chan<- item) error {
	return func(ctx context.Context, items chan<- item) error {
		return walkRecords(ctx, root, func(path string, _ fs.DirEntry) error {
			rel, _ := filepath.Rel(root, path)
			return send(ctx, items, item{src: src, path: filepath.ToSlash(rel), read: func() ([]byte, error) {
				f, err := os.Open(path)
				if err != nil {
					return nil, err
				}
				defer f.Close()
				return readBounded(f, opts.MaxRecordSize)
			}})
		})
	}
}

func produceZip(src int, location string, zr *zip.Reader, opts ImportOptions) (func(context.Context, chan<- item) error, error) {
	if len(zr.File) > opts.MaxEntries {
		return nil, fmt.Errorf("import %s: %d entries, more than the limit of %d", location, len(zr.File), opts.MaxEntries)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > uint64(opts.MaxUncompressed) {
		return nil, fmt.Errorf("import %s: %d bytes uncompressed, more than the limit of %d", location, total, opts.MaxUncompressed)
	}
	return func(ctx context.Context, items chan<- item) error {
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || !strings.EqualFold(filepath.Ext(f.Name), ".json") {
				continue
			}
			// archive/zip fails a read whose size disagrees with the
			// header, so the header sizes checked above bound the work.
			err := send(ctx, items, item{src: src, path: f.Name, read: func() ([]byte, error) {
				if f.UncompressedSize64 > uint64(opts.MaxRecordSize) {
					return nil, fmt.Errorf("%d bytes, more than the %d-byte record limit", f.UncompressedSize64, opts.MaxRecordSize)
				}
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return readBounded(rc, opts.MaxRecordSize)
			}})
			if err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func produceFile(src int, path, location string, opts ImportOptions) func(context.Context, chan<- item) error {
	return func(ctx context.Context, items chan<- item) error {
		return send(ctx, items, item{src: src, path: location, read: func() ([]byte, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return readBounded(f, opts.MaxDownload)
		}})
	}
}
