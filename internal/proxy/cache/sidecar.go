package cache

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	sidecarVersion = 1
	// maxKeyLen bounds document keys; the caller's keys embed a package
	// name (at most 214 bytes) and an upstream URL.
	maxKeyLen = 4096
	// maxHeaderLen bounds each stored response header value.
	maxHeaderLen = 8192
	// maxSidecarSize bounds what Open reads from one sidecar file; a valid
	// sidecar is below maxKeyLen + 3*maxHeaderLen plus JSON framing.
	maxSidecarSize = 64 << 10
	genLen         = 16 // hex digits of a body generation
)

// docMeta is a document's sidecar: everything about it but the body.
type docMeta struct {
	Version      int       `json:"v"`
	Key          string    `json:"key"`
	Gen          string    `json:"gen"`  // names the body file: <hash>.<gen>.body
	Size         int64     `json:"size"` // the body's length in bytes
	ContentType  string    `json:"contentType,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	FetchedAt    time.Time `json:"fetchedAt"`
}

// keyHash is the file-name stem of a document key.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func docID(hash string) string { return "d/" + hash }

func metaFileName(hash string) string      { return hash + ".meta" }
func bodyFileName(hash, gen string) string { return hash + "." + gen + ".body" }

// newGen returns a fresh body generation: two writers of one key never
// share a body file name.
func newGen() string {
	var b [genLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validateKey(key string) error {
	if key == "" {
		return fmt.Errorf("document key is empty")
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("document key is %d bytes, more than %d", len(key), maxKeyLen)
	}
	// JSON would replace invalid UTF-8, and the key read back would no
	// longer hash to its file name.
	if !utf8.ValidString(key) {
		return fmt.Errorf("document key is not valid UTF-8")
	}
	return nil
}

// validateHeaders refuses response header values the sidecar will not
// hold; they come from the upstream.
func validateHeaders(d *Document) error {
	for _, h := range []struct{ name, value string }{
		{"Content-Type", d.ContentType}, {"ETag", d.ETag}, {"Last-Modified", d.LastModified},
	} {
		if len(h.value) > maxHeaderLen {
			return fmt.Errorf("%s is %d bytes, more than %d", h.name, len(h.value), maxHeaderLen)
		}
		if !utf8.ValidString(h.value) { // JSON would not keep it byte for byte
			return fmt.Errorf("%s is not valid UTF-8", h.name)
		}
	}
	return nil
}

func encodeSidecar(m *docMeta) ([]byte, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding sidecar of %q: %w", m.Key, err)
	}
	return append(data, '\n'), nil
}

// parseSidecar decodes and validates a sidecar read from the file named
// name (used in errors); wantHash is the hash the file name claims, so a
// sidecar copied or renamed onto another key's name is refused.
func parseSidecar(name, wantHash string, data []byte) (*docMeta, error) {
	if len(data) > maxSidecarSize {
		return nil, fmt.Errorf("%s: sidecar is %d bytes, more than %d", name, len(data), maxSidecarSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m docMeta
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: data after the sidecar object", name)
	}
	if m.Version != sidecarVersion {
		return nil, fmt.Errorf("%s: sidecar version %d, want %d", name, m.Version, sidecarVersion)
	}
	if err := validateKey(m.Key); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if got := keyHash(m.Key); got != wantHash {
		return nil, fmt.Errorf("%s: key hashes to %s, not to the file's name", name, got)
	}
	if len(m.Gen) != genLen || strings.Trim(m.Gen, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("%s: generation %q is not %d lowercase hex digits", name, m.Gen, genLen)
	}
	if m.Size < 0 {
		return nil, fmt.Errorf("%s: negative size %d", name, m.Size)
	}
	if err := validateHeaders(&Document{ContentType: m.ContentType, ETag: m.ETag, LastModified: m.LastModified}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &m, nil
}
