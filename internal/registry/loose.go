package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The types in this file decode package.json fields as they are found in
// the wild rather than as they should be. Each UnmarshalJSON accepts any
// valid JSON value and keeps what fits, so that one malformed field never
// fails a whole packument: json.Decoder has already checked the syntax
// before these run.

// looseString keeps strings and drops every other value.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' {
		return nil
	}
	// Most strings need no unescaping; the decoder has already validated
	// the syntax, so they can be taken as they are.
	if plain := b[1 : len(b)-1]; bytes.IndexByte(plain, '\\') < 0 && utf8.Valid(plain) {
		*s = looseString(plain)
		return nil
	}
	var v string
	if json.Unmarshal(b, &v) == nil {
		*s = looseString(v)
	}
	return nil
}

// looseBool is true only for JSON true.
type looseBool bool

func (v *looseBool) UnmarshalJSON(b []byte) error {
	*v = looseBool(bytes.Equal(b, []byte("true")))
	return nil
}

// looseInt keeps non-negative integers, also when written as strings.
type looseInt int64

func (v *looseInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		*v = looseInt(n)
	}
	return nil
}

// looseTime keeps RFC 3339 timestamps (the registry writes
// 2015-03-24T00:12:24.039Z; some mirrors +00:00 offsets with microseconds).
type looseTime time.Time

func (t *looseTime) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*t = looseTime(v.UTC())
	}
	return nil
}

// stringMap keeps the string-valued members of an object (dependencies,
// scripts, engines, dist-tags); arrays and other values give nil.
type stringMap map[string]string

func (m *stringMap) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		*m = nil
		return nil
	}
	var fast map[string]string
	if json.Unmarshal(b, &fast) == nil {
		*m = fast
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s looseString
		if len(v) > 0 && v[0] == '"' {
			_ = s.UnmarshalJSON(v)
			out[k] = string(s)
		}
	}
	*m = out
	return nil
}

// stringList keeps the strings of an array; a lone string is a list of one.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	*l = nil
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*l = []string{s}
		}
	case len(b) > 0 && b[0] == '[':
		var raw []json.RawMessage
		if json.Unmarshal(b, &raw) != nil {
			return nil
		}
		for _, v := range raw {
			var s looseString
			if len(v) > 0 && v[0] == '"' {
				_ = s.UnmarshalJSON(v)
				*l = append(*l, string(s))
			}
		}
	}
	return nil
}

// personList keeps the entries of an array that read as people.
type personList []Person

func (l *personList) UnmarshalJSON(b []byte) error {
	*l = nil
	var raw []json.RawMessage
	if len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &raw) != nil {
		return nil
	}
	for _, v := range raw {
		var p Person
		_ = p.UnmarshalJSON(v)
		if p.Name != "" || p.Email != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// UnmarshalJSON reads a person object or a "Name <email> (url)" string;
// anything else leaves p empty.
func (p *Person) UnmarshalJSON(b []byte) error {
	*p = Person{}
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*p = parsePersonString(s)
		}
	case len(b) > 0 && b[0] == '{':
		var w struct {
			Name             looseString      `json:"name"`
			Email            looseString      `json:"email"`
			URL              looseString      `json:"url"`
			TrustedPublisher trustedPublisher `json:"trustedPublisher"`
			Approver         *Person          `json:"approver"`
		}
		if json.Unmarshal(b, &w) != nil {
			return nil
		}
		*p = Person{Name: string(w.Name), Email: string(w.Email), URL: string(w.URL), Approver: w.Approver}
		if w.TrustedPublisher.set {
			tp := TrustedPublisher{ID: w.TrustedPublisher.ID, OIDCConfigID: w.TrustedPublisher.OIDCConfigID}
			p.TrustedPublisher = &tp
		}
		if p.Approver != nil && p.Approver.Name == "" && p.Approver.Email == "" {
			p.Approver = nil
		}
	}
	return nil
}

// MarshalJSON writes the registry's object form, so that a Person survives
// a round trip (reports, stores).
func (p Person) MarshalJSON() ([]byte, error) {
	type tp struct {
		ID           string `json:"id,omitempty"`
		OIDCConfigID string `json:"oidcConfigId,omitempty"`
	}
	w := struct {
		Name             string  `json:"name,omitempty"`
		Email            string  `json:"email,omitempty"`
		URL              string  `json:"url,omitempty"`
		TrustedPublisher *tp     `json:"trustedPublisher,omitempty"`
		Approver         *Person `json:"approver,omitempty"`
	}{Name: p.Name, Email: p.Email, URL: p.URL, Approver: p.Approver}
	if p.TrustedPublisher != nil {
		w.TrustedPublisher = &tp{p.TrustedPublisher.ID, p.TrustedPublisher.OIDCConfigID}
	}
	return json.Marshal(w)
}

// parsePersonString splits npm's "Name <email> (url)" shorthand.
func parsePersonString(s string) Person {
	var p Person
	if i := strings.IndexByte(s, '('); i >= 0 {
		if j := strings.IndexByte(s[i:], ')'); j > 0 {
			p.URL = strings.TrimSpace(s[i+1 : i+j])
			s = s[:i] + s[i+j+1:]
		}
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			p.Email = strings.TrimSpace(s[i+1 : i+j])
			s = s[:i] + s[i+j+1:]
		}
	}
	p.Name = strings.TrimSpace(s)
	return p
}

type trustedPublisher struct {
	set          bool
	ID           string
	OIDCConfigID string
}

func (t *trustedPublisher) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil // another shape: not something we can attribute
	}
	var w struct {
		ID           looseString `json:"id"`
		OIDCConfigID looseString `json:"oidcConfigId"`
	}
	if json.Unmarshal(b, &w) == nil {
		*t = trustedPublisher{set: true, ID: string(w.ID), OIDCConfigID: string(w.OIDCConfigID)}
	}
	return nil
}

type attestationsWire struct {
	set        bool
	URL        looseString
	Provenance struct{ PredicateType looseString }
}

func (a *attestationsWire) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var w struct {
		URL        looseString `json:"url"`
		Provenance json.RawMessage
	}
	if json.Unmarshal(b, &w) != nil {
		return nil
	}
	*a = attestationsWire{set: true, URL: w.URL}
	if len(w.Provenance) > 0 && w.Provenance[0] == '{' {
		var p struct {
			PredicateType looseString `json:"predicateType"`
		}
		if json.Unmarshal(w.Provenance, &p) == nil {
			a.Provenance.PredicateType = p.PredicateType
		}
	}
	return nil
}

// signatures keeps the well-formed entries of dist.signatures.
type signatures []Signature

func (s *signatures) UnmarshalJSON(b []byte) error {
	*s = nil
	var raw []json.RawMessage
	if len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &raw) != nil {
		return nil
	}
	for _, v := range raw {
		var w struct {
			KeyID looseString `json:"keyid"`
			Sig   looseString `json:"sig"`
		}
		if len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &w) == nil && w.KeyID != "" && w.Sig != "" {
			*s = append(*s, Signature{KeyID: string(w.KeyID), Sig: string(w.Sig)})
		}
	}
	return nil
}

// license is "MIT", or the old {"type":"MIT","url":…} form, or a list of
// those (joined with " OR ").
type license string

func (l *license) UnmarshalJSON(b []byte) error {
	*l = ""
	one := func(v []byte) string {
		var s looseString
		if len(v) > 0 && v[0] == '"' {
			_ = s.UnmarshalJSON(v)
			return string(s)
		}
		var o struct {
			Type looseString `json:"type"`
		}
		if len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &o) == nil {
			return string(o.Type)
		}
		return ""
	}
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if json.Unmarshal(b, &raw) != nil {
			return nil
		}
		var parts []string
		for _, v := range raw {
			if s := one(v); s != "" {
				parts = append(parts, s)
			}
		}
		*l = license(strings.Join(parts, " OR "))
		return nil
	}
	*l = license(one(b))
	return nil
}

// bundleDeps is a list of names, or true for "all dependencies".
type bundleDeps struct {
	set   bool
	all   bool
	names []string
}

func (d *bundleDeps) UnmarshalJSON(b []byte) error {
	*d = bundleDeps{set: true}
	if bytes.Equal(b, []byte("true")) {
		d.all = true
		return nil
	}
	var l stringList
	if len(b) > 0 && b[0] == '[' {
		_ = l.UnmarshalJSON(b)
	}
	d.names = l
	return nil
}

// bin is package.json's bin: a map of commands, or a single path whose
// command is the unscoped package name.
type bin struct {
	single string
	m      map[string]string
}

func (v *bin) UnmarshalJSON(b []byte) error {
	*v = bin{}
	if len(b) > 0 && b[0] == '"' {
		var s looseString
		_ = s.UnmarshalJSON(b)
		v.single = string(s)
		return nil
	}
	var m stringMap
	_ = m.UnmarshalJSON(b)
	v.m = m
	return nil
}

func (v bin) expand(pkg string) map[string]string {
	if v.single != "" && pkg != "" {
		return map[string]string{path.Base(pkg): v.single}
	}
	return v.m
}

// deprecated is the message; true (seen in old documents) becomes a generic
// one, false and "" mean not deprecated.
type deprecated string

func (d *deprecated) UnmarshalJSON(b []byte) error {
	*d = ""
	switch {
	case bytes.Equal(b, []byte("true")):
		*d = "deprecated"
	case len(b) > 0 && b[0] == '"':
		var s looseString
		_ = s.UnmarshalJSON(b)
		*d = deprecated(s)
	}
	return nil
}

// skipValue consumes a JSON value without keeping it.
type skipValue struct{}

func (skipValue) UnmarshalJSON([]byte) error { return nil }

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", errors.New("want an object key")
	}
	return k, nil
}

// firstByte is the first byte of b that is not whitespace or the ':' that
// separates an object key from its value.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', ':':
			continue
		}
		return c
	}
	return 0
}
