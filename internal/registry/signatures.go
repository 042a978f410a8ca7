package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrUnsigned: a version carries no registry signature although the
// registry publishes signing keys.
var ErrUnsigned = errors.New("no registry signature")

// Key is one of the registry's signing keys, as served at /-/npm/v1/keys.
type Key struct {
	KeyID   string
	KeyType string // "ecdsa-sha2-nistp256"
	Scheme  string
	// Expires is when the registry stopped signing with the key; zero if it
	// has not. Signatures on versions published after it are not trusted.
	Expires time.Time
	Public  *ecdsa.PublicKey
}

// Keys fetches the registry's signing keys. A registry that does not sign
// answers 404 (errors.Is ErrNotFound).
func (c *Client) Keys(ctx context.Context) ([]Key, error) {
	u := c.base.String() + "-/npm/v1/keys"
	var keys []Key
	_, err := c.get(ctx, u, http.Header{"Accept": {MediaTypeJSON}}, func(resp *http.Response) error {
		body, err := readBody(resp, u, 1<<20, nil)
		if err != nil {
			return err
		}
		keys, err = ParseKeys(body)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registry keys: %w", err)
	}
	if keys == nil {
		return nil, fmt.Errorf("registry keys: unexpected HTTP 304")
	}
	return keys, nil
}

// ParseKeys decodes a /-/npm/v1/keys document. Keys of a type this package
// cannot verify are skipped; a document with none it can use is an error.
func ParseKeys(data []byte) ([]Key, error) {
	var doc struct {
		Keys []struct {
			Expires *string `json:"expires"`
			KeyID   string  `json:"keyid"`
			KeyType string  `json:"keytype"`
			Scheme  string  `json:"scheme"`
			Key     string  `json:"key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("registry keys: %w", err)
	}
	keys := []Key{}
	for _, k := range doc.Keys {
		if k.KeyType != "ecdsa-sha2-nistp256" || k.KeyID == "" {
			continue
		}
		der, err := base64.StdEncoding.DecodeString(k.Key)
		if err != nil {
			return nil, fmt.Errorf("registry key %s: %w", k.KeyID, err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("registry key %s: %w", k.KeyID, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("registry key %s: not an ECDSA key", k.KeyID)
		}
		key := Key{KeyID: k.KeyID, KeyType: k.KeyType, Scheme: k.Scheme, Public: ec}
		if k.Expires != nil && *k.Expires != "" {
			t, err := time.Parse(time.RFC3339Nano, *k.Expires)
			if err != nil {
				return nil, fmt.Errorf("registry key %s: expires: %w", k.KeyID, err)
			}
			key.Expires = t
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("registry keys: no ECDSA P-256 key")
	}
	return keys, nil
}

// VerifySignatures checks m's registry signatures the way npm audit
// signatures does: each signature must name a known key that had not
// expired when the version was published (published may be zero when
// unknown: expiry is then not checked) and must verify over
// "<name>@<version>:<integrity>". A version without signatures is
// ErrUnsigned; anything else wrong is ErrSignature.
//
// A valid signature shows the registry published this integrity for this
// name and version; it guards against a mirror or proxy that altered the
// metadata, not against a malicious publisher.
func VerifySignatures(m *Manifest, keys []Key, published time.Time) error {
	id := m.Name + "@" + m.Version
	if len(m.Dist.Signatures) == 0 {
		return fmt.Errorf("%s: %w", id, ErrUnsigned)
	}
	if m.Dist.Integrity == "" {
		return fmt.Errorf("%s: signed but no dist.integrity: %w", id, ErrSignature)
	}
	digest := sha256.Sum256([]byte(id + ":" + m.Dist.Integrity))
	for _, s := range m.Dist.Signatures {
		var key *Key
		for i := range keys {
			if keys[i].KeyID == s.KeyID {
				key = &keys[i]
				break
			}
		}
		if key == nil {
			return fmt.Errorf("%s: signature by unknown key %s: %w", id, s.KeyID, ErrSignature)
		}
		if !key.Expires.IsZero() && !published.IsZero() && published.After(key.Expires) {
			return fmt.Errorf("%s: signed by key %s, which expired %s, before the version was published %s: %w",
				id, s.KeyID, key.Expires.Format(time.RFC3339), published.Format(time.RFC3339), ErrSignature)
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ecdsa.VerifyASN1(key.Public, digest[:], sig) {
			return fmt.Errorf("%s: signature by key %s does not verify: %w", id, s.KeyID, ErrSignature)
		}
	}
	return nil
}
