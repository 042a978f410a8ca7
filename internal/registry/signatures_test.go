package registry

import (
	"errors"
	"testing"
	"time"
)

func TestVerifyRealSignature(t *testing.T) {
	// npm's published keys and a signature the registry made: the scheme
	// implemented here is the registry's own.
	keys, err := ParseKeys(readFixture(t, "npm-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[1].Expires.IsZero() || keys[0].Expires.IsZero() {
		t.Fatalf("keys %+v", keys)
	}
	p := parseFixture(t, "packuments/x402-express.json")
	m := p.Versions["2.12.0"]
	at, _ := p.PublishTime("2.12.0")
	if err := VerifySignatures(m, keys, at); err != nil {
		t.Fatalf("real signature: %v", err)
	}
	tampered := *m
	tampered.Dist.Integrity = parseFixture(t, "packuments/widget.json").Versions["1.0.0"].Dist.Integrity
	if err := VerifySignatures(&tampered, keys, at); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered integrity: %v", err)
	}
	renamed := *m
	renamed.Name = "@x402/expresss"
	if err := VerifySignatures(&renamed, keys, at); !errors.Is(err, ErrSignature) {
		t.Errorf("another name: %v", err)
	}
}

func TestVerifyFixtureSignatures(t *testing.T) {
	reg := newFakeRegistry(t).loadFixtures()
	c := reg.client(t, Options{})
	keys, err := c.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	npmKeys, err := ParseKeys(readFixture(t, "npm-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := parseFixture(t, "packuments/widget.json")
	for v, m := range p.Versions {
		at, _ := p.PublishTime(v)
		if err := VerifySignatures(m, keys, at); err != nil {
			t.Errorf("%s: %v", v, err)
		}
		// Signed by a key the registry does not publish.
		if err := VerifySignatures(m, npmKeys, at); !errors.Is(err, ErrSignature) {
			t.Errorf("%s with npm's keys: %v", v, err)
		}
	}

	m := *p.Versions["2.1.0"]
	at, _ := p.PublishTime("2.1.0")
	expired := append([]Key(nil), keys...)
	expired[0].Expires = at.Add(-time.Hour)
	if err := VerifySignatures(&m, expired, at); !errors.Is(err, ErrSignature) {
		t.Errorf("key expired before publication: %v", err)
	}
	if err := VerifySignatures(&m, expired, at.Add(-2*time.Hour)); err != nil {
		t.Errorf("key expired after publication: %v", err)
	}
	m.Dist.Signatures = nil
	if err := VerifySignatures(&m, keys, at); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	m.Dist.Signatures = []Signature{{KeyID: keys[0].KeyID, Sig: "not base64!"}}
	if err := VerifySignatures(&m, keys, at); !errors.Is(err, ErrSignature) {
		t.Errorf("garbage signature: %v", err)
	}
}

func TestParseKeysRejects(t *testing.T) {
	for _, doc := range []string{
		``, `{"keys":[]}`, `{"keys":[{"keyid":"k","keytype":"rsa","key":"AAAA"}]}`,
		`{"keys":[{"keyid":"k","keytype":"ecdsa-sha2-nistp256","key":"!!"}]}`,
		`{"keys":[{"keyid":"k","keytype":"ecdsa-sha2-nistp256","key":"AAAA"}]}`,
		`{"keys":[{"keyid":"k","keytype":"ecdsa-sha2-nistp256","expires":"tomorrow",
		  "key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g=="}]}`,
	} {
		if k, err := ParseKeys([]byte(doc)); err == nil {
			t.Errorf("%q: accepted %+v", doc, k)
		}
	}
}
