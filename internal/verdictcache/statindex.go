package verdictcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The stat index lets a warm run skip reading installed folders, the way
// git's index lets 'git status' skip reading the work tree. For each
// folder it records a fingerprint of every entry's metadata — relative
// path, mode, size, mtime, ctime, inode and device — and the verdict key
// (the content digest) last computed for exactly that metadata. When a
// later run finds the same metadata, the stored key is reused without
// reading a byte of the files.
//
// Soundness rests on ctime: the kernel sets it to the current time on
// every change of a file's bytes or attributes, and no system call lets a
// process set it, so restoring size and mtime after an edit (touch -r,
// os.Chtimes) does not hide the edit. The fingerprint is therefore only
// taken where ctime means that: on Linux, on local filesystems known to
// keep it (StatFolder returns ErrStatUnsupported elsewhere, and callers
// hash as before).
//
// Two races are closed as git closes its "racily clean" entries: a
// folder is recorded only if no entry changed within racyWindow of the
// walk that fingerprinted it (timestamps are coarse: a change in the same
// clock tick as the walk may not move them), and only if a second walk
// after reading the files (RecheckFolder) finds the same metadata.

// statFormat versions the stat entry layout and the fingerprint's
// definition; entries of another format are ignored.
const statFormat = 1

// maxStatEntrySize bounds what FolderKey reads from one stat entry.
const maxStatEntrySize = 64 << 10

// racyWindow is how recently an entry may have changed, relative to the
// start of the walk, and still be trusted: it covers the kernel's coarse
// timestamp clock and filesystems with one-second timestamps. A variable
// so the tests need not wait.
var racyWindow = 2 * time.Second

// ErrStatUnsupported means the platform or the filesystem gives no
// trustworthy change time; the folder must be hashed.
var ErrStatUnsupported = errors.New("verdict cache: no trustworthy change times here")

// FolderState is the metadata fingerprint of an installed folder, taken
// by StatFolder.
type FolderState struct {
	dir  string // absolute
	salt string
	sum  string
	// racy is set when an entry changed too recently for its timestamps
	// to be trusted: the state may be compared but not recorded.
	racy       bool
	maxEntries int
}

// Racy reports whether an entry changed too recently for the state to be
// recorded.
func (s *FolderState) Racy() bool { return s.racy }

// statEntry is the file format of one stat index entry.
type statEntry struct {
	Format int    `json:"format"`
	Dir    string `json:"dir"`
	Salt   string `json:"salt"`
	Stat   string `json:"stat"`
	Key    string `json:"key"`
}

func statDir() string { return fmt.Sprintf("stat-v%d", statFormat) }

// StatFolder fingerprints the metadata of every entry under dir (the
// folder itself is followed if it is a symlink, nothing inside it is),
// without opening a file. salt names what else the digest to be recorded
// depends on (the reader's limits, the key's definition); maxEntries, when
// positive, gives up on larger folders. An error means the folder cannot
// be indexed (ErrStatUnsupported on platforms and filesystems without
// trustworthy change times, or the walk failed) and must be hashed.
func StatFolder(ctx context.Context, dir, salt string, maxEntries int) (*FolderState, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	h := sha256.New()
	fmt.Fprintf(h, "vigil stat index %d\nsalt %q\n", statFormat, salt)
	racy, err := statWalk(ctx, abs, h, start.Add(-racyWindow).UnixNano(), maxEntries)
	if err != nil {
		return nil, err
	}
	return &FolderState{dir: abs, salt: salt, sum: hex.EncodeToString(h.Sum(nil)), racy: racy, maxEntries: maxEntries}, nil
}

// errTooManyEntries stops a walk over more entries than the reader
// accepts.
var errTooManyEntries = errors.New("verdict cache: too many entries to index")

// RecheckFolder takes the folder's fingerprint again (after its files were
// read) and reports whether it is the one s holds and may be recorded.
func RecheckFolder(ctx context.Context, s *FolderState) bool {
	if s == nil || s.racy {
		return false
	}
	again, err := StatFolder(ctx, s.dir, s.salt, s.maxEntries)
	return err == nil && !again.racy && again.sum == s.sum
}

// statPath is where the stat entry of a folder lives.
func (c *Cache) statPath(s *FolderState) string {
	sum := sha256.Sum256([]byte(s.dir + "\x00" + s.salt))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, statDir(), h[:2], h+".json")
}

// FolderKey returns the verdict key recorded for the folder in exactly
// the state s. A missing, unreadable, corrupt or foreign entry, or one
// recorded for other metadata, is a miss: the caller reads and hashes the
// folder and records the new key.
func (c *Cache) FolderKey(s *FolderState) (string, bool) {
	if s == nil {
		return "", false
	}
	p := c.statPath(s)
	data, err := readCapped(p, maxStatEntrySize)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logger.Debug("verdict cache: unreadable stat entry", "path", p, "err", err)
		}
		return "", false
	}
	var e statEntry
	if err := decodeStrict(data, &e); err != nil {
		c.logger.Debug("verdict cache: ignoring corrupt stat entry", "path", p, "err", err)
		return "", false
	}
	if e.Format != statFormat || e.Dir != s.dir || e.Salt != s.salt || e.Key == "" {
		c.logger.Debug("verdict cache: ignoring foreign stat entry", "path", p)
		return "", false
	}
	if e.Stat != s.sum {
		return "", false // the folder changed
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // keep it from Trim, as Get does
	return e.Key, true
}

// PutFolderKey records key as the verdict key of the folder in state s,
// atomically. A racy state is not recorded (nil error: nothing is wrong,
// the next run hashes the folder again).
func (c *Cache) PutFolderKey(ctx context.Context, s *FolderState, key string) error {
	if s == nil || s.racy {
		return nil
	}
	if key == "" {
		return errors.New("verdict cache: empty key")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(statEntry{Format: statFormat, Dir: s.dir, Salt: s.salt, Stat: s.sum, Key: key})
	if err != nil {
		return fmt.Errorf("verdict cache: encoding: %w", err)
	}
	return writeAtomic(c.statPath(s), data)
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
