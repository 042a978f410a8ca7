package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/facts"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
)

// ChangeKind says how a value changed.
type ChangeKind string

const (
	Added    ChangeKind = "added"
	Removed  ChangeKind = "removed"
	Modified ChangeKind = "changed"
)

// ManifestDiff is package.json compared field by field.
type ManifestDiff struct {
	// ErrorA and ErrorB say why a side's package.json could not be
	// compared (missing, not a JSON object, too large).
	ErrorA string `json:"error_a,omitempty"`
	ErrorB string `json:"error_b,omitempty"`
	// Changes lists the watched fields first (in watchedFields order),
	// then every other top-level field that changed, by name.
	Changes []ManifestChange `json:"changes"`
}

// ManifestChange is one changed field, or one changed entry of a map
// field (a script, a dependency, a bin command).
type ManifestChange struct {
	Field  string     `json:"field"`
	Key    string     `json:"key,omitempty"`
	Change ChangeKind `json:"change"`
	// Old and New are the values: strings as they are, anything else as
	// compact JSON; sanitised and cut to maxValue characters.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Lifecycle marks a script npm runs on some install (preinstall,
	// install, postinstall, prepare…); InstallTime one it runs on every
	// install from a registry.
	Lifecycle   bool `json:"lifecycle,omitempty"`
	InstallTime bool `json:"install_time,omitempty"`
	// Watched: the field changes what installing or importing the package
	// runs or pulls in; other fields (description, repository…) are
	// listed for completeness.
	Watched bool `json:"watched"`
}

// watchedFields are compared in this order; those in mapFields entry by
// entry.
var watchedFields = []string{
	"name", "version", "scripts", "dependencies", "optionalDependencies", "peerDependencies",
	"bundleDependencies", "bundledDependencies", "bin", "main", "module", "browser", "exports", "imports",
	"type", "files", "gypfile", "os", "cpu",
}

var mapFields = map[string]bool{
	"scripts": true, "dependencies": true, "optionalDependencies": true, "peerDependencies": true, "bin": true,
}

const (
	// maxManifest is the largest package.json compared field by field
	// (the largest real ones are tens of kilobytes).
	maxManifest = 1 << 20
	// maxValue caps a value shown in a change.
	maxValue = 300
)

func compareManifests(a, b *analyze.File) ManifestDiff {
	var d ManifestDiff
	ma, errA := parseManifestFields(a)
	mb, errB := parseManifestFields(b)
	if errA != nil {
		d.ErrorA = errA.Error()
	}
	if errB != nil {
		d.ErrorB = errB.Error()
	}
	d.Changes = diffManifestFields(ma, mb)
	return d
}

// manifestDiffBytes compares two package.json documents held as bytes.
func manifestDiffBytes(a, b []byte) ManifestDiff {
	return compareManifests(&analyze.File{Path: "package.json", Data: a}, &analyze.File{Path: "package.json", Data: b})
}

// parseManifestFields reads package.json's top-level fields. A missing or
// unreadable document yields no fields and an error, so that the other
// side's fields all show as added or removed.
func parseManifestFields(f *analyze.File) (map[string]json.RawMessage, error) {
	if f == nil {
		return nil, fmt.Errorf("no package.json")
	}
	if len(f.Data) > maxManifest {
		return nil, fmt.Errorf("package.json is %d bytes, more than %d: not compared field by field", len(f.Data), maxManifest)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(f.Data, &m); err != nil {
		return nil, fmt.Errorf("package.json: %s", rules.Sanitize(err.Error(), 200))
	}
	if m == nil {
		return nil, fmt.Errorf("package.json: not a JSON object")
	}
	return m, nil
}

func diffManifestFields(a, b map[string]json.RawMessage) []ManifestChange {
	out := []ManifestChange{}
	seen := map[string]bool{}
	for _, field := range watchedFields {
		seen[field] = true
		if mapFields[field] {
			out = append(out, diffMapField(field, a, b)...)
			continue
		}
		if c, ok := diffValue(field, "", a[field], b[field]); ok {
			c.Watched = true
			out = append(out, c)
		}
	}
	var others []string
	for _, m := range []map[string]json.RawMessage{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				others = append(others, k)
			}
		}
	}
	sort.Strings(others)
	for _, field := range others {
		if c, ok := diffValue(field, "", a[field], b[field]); ok {
			out = append(out, c)
		}
	}
	return out
}

// diffMapField compares an object field entry by entry; a field of
// another type (scripts as a string) is compared as one value.
func diffMapField(field string, a, b map[string]json.RawMessage) []ManifestChange {
	ea, okA := entries(field, a)
	eb, okB := entries(field, b)
	if !okA || !okB {
		c, changed := diffValue(field, "", a[field], b[field])
		if !changed {
			return nil
		}
		c.Watched = true
		return []ManifestChange{c}
	}
	keys := make([]string, 0, len(ea)+len(eb))
	for k := range ea {
		keys = append(keys, k)
	}
	for k := range eb {
		if _, ok := ea[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []ManifestChange
	for _, k := range keys {
		c, ok := diffValue(field, k, ea[k], eb[k])
		if !ok {
			continue
		}
		c.Watched = true
		if field == "scripts" {
			c.Lifecycle, c.InstallTime = facts.IsLifecycle(k), facts.IsInstall(k)
		}
		out = append(out, c)
	}
	return out
}

// entries returns an object field's entries; ok is false when the field
// is present but not an object. bin's string form names one command, the
// unscoped package name, as npm expands it.
func entries(field string, m map[string]json.RawMessage) (map[string]json.RawMessage, bool) {
	raw, present := m[field]
	if !present || isNull(raw) {
		return nil, true
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err == nil && out != nil {
		return out, true
	}
	if field == "bin" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			var name string
			_ = json.Unmarshal(m["name"], &name)
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			return map[string]json.RawMessage{name: raw}, true
		}
	}
	return nil, false
}

// diffValue compares two raw values (nil when absent) by their canonical
// form, so reformatting and key order are not changes.
func diffValue(field, key string, a, b json.RawMessage) (ManifestChange, bool) {
	if isNull(a) {
		a = nil
	}
	if isNull(b) {
		b = nil
	}
	ca, cb := canonical(a), canonical(b)
	if ca == cb {
		return ManifestChange{}, false
	}
	c := ManifestChange{Field: field, Key: key, Old: display(a), New: display(b)}
	switch {
	case a == nil:
		c.Change = Added
	case b == nil:
		c.Change = Removed
	default:
		c.Change = Modified
	}
	return c, true
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// canonical re-encodes a JSON value compactly with sorted keys.
func canonical(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// display shows a value to a reader: a string as itself, anything else as
// compact JSON; sanitised and bounded.
func display(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return `""` // present but empty, unlike an absent value
		}
		return rules.Sanitize(s, maxValue)
	}
	return rules.Sanitize(canonical(raw), maxValue)
}
