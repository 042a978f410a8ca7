package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAmbiguousKeys(t *testing.T) {
	for _, c := range []struct {
		name, raw, want string
	}{
		{"clean", `{"name":"a","scripts":{"postinstall":"x"},"dist":{"tarball":"t","integrity":"i"}}`, ``},
		{"empty", `{}`, ``},
		{"not an object", `"x"`, ``},
		{"scripts decoy after", `{"scripts":{"postinstall":"node steal.js"},"Scripts":{"test":"x"}}`, `"scripts" and "Scripts"`},
		{"scripts decoy before", `{"Scripts":{},"scripts":{"postinstall":"x"}}`, `"Scripts" and "scripts"`},
		{"two decoys, no exact", `{"SCRIPTS":{},"Scripts":{}}`, `"SCRIPTS" and "Scripts"`},
		{"identical duplicates are consistent", `{"scripts":{"a":"1"},"scripts":{"b":"2"}}`, ``},
		{"lone variant of a package.json field is harmless", `{"License":"MIT","Description":"x"}`, ``},
		{"unknown keys differing in case", `{"foo":1,"Foo":2,"readme":"","README":""}`, ``},
		{"escaped key", `{"scripts":{},"\u0053cripts":{}}`, `"scripts" and "Scripts"`},
		{"escaped exact key is the same key", `{"scripts":{},"\u0073cripts":{}}`, ``},
		{"long s", `{"scripts":{},"ſcripts":{}}`, `"scripts" and "\u017fcripts"`},
		{"long s escaped", `{"scripts":{},"\u017fcripts":{}}`, `"scripts" and "\u017fcripts"`},
		{"kelvin sign", `{"dist":{"signatures":[{"keyid":"a","sig":"b","\u212Aeyid":"c"}]}}`, `"dist.signatures": "keyid" and "\u212aeyid"`},
		{"dist decoy", `{"dist":{"tarball":"a"},"Dist":{"tarball":"b"}}`, `"dist" and "Dist"`},
		{"lone Dist", `{"Dist":{"tarball":"http://169.254.169.254/"}}`, `"Dist" and "dist"`},
		{"dist integrity", `{"dist":{"integrity":"a","Integrity":"b"}}`, `"dist": "integrity" and "Integrity"`},
		{"dist lone variant", `{"dist":{"Tarball":"x"}}`, `"dist": "Tarball" and "tarball"`},
		{"attestations", `{"dist":{"attestations":{"url":"u","URL":"v"}}}`, `"dist.attestations": "url" and "URL"`},
		{"provenance", `{"dist":{"attestations":{"url":"u","provenance":{"predicateType":"a","PredicateType":"b"}}}}`, `"dist.attestations.provenance": "predicateType" and "PredicateType"`},
		{"provenance spelled as the Go field", `{"dist":{"attestations":{"Provenance":{}}}}`, `"dist.attestations": "Provenance" and "provenance"`},
		{"npmUser", `{"_npmUser":{"name":"a"},"_NPMUSER":{"name":"b"}}`, `"_npmUser" and "_NPMUSER"`},
		{"trustedPublisher", `{"_npmUser":{"name":"a","trustedPublisher":{"id":"github","ID":"x"}}}`, `"_npmUser.trustedPublisher": "id" and "ID"`},
		{"approver", `{"_npmUser":{"approver":{"name":"a","Name":"b"}}}`, `"_npmUser.approver": "name" and "Name"`},
		{"maintainers entry", `{"maintainers":[{"name":"a"},{"email":"e","Email":"f"}]}`, `"maintainers": "email" and "Email"`},
		{"license object", `{"license":{"type":"MIT","Type":"x"}}`, `"license": "type" and "Type"`},
		{"license list", `{"license":[{"type":"MIT"},{"type":"x","TYPE":"y"}]}`, `"license": "type" and "TYPE"`},
		// Keys that are not at the level scanned do not count.
		{"nested in scripts", `{"scripts":{"Scripts":"x","scripts":"y"}}`, ``},
		{"nested in unknown", `{"x":{"scripts":{},"Scripts":{}},"y":[{"dist":1,"Dist":2}]}`, ``},
		{"dependencies keys", `{"dependencies":{"Foo":"1","foo":"2"}}`, ``},
		{"in a string", `{"readme":"{\"scripts\":{},\"Scripts\":{}}","description":"}{]["}`, ``},
		{"string with escaped backslash", `{"a":"x\\","Scripts":{},"b":"\\\"","scripts":{}}`, `"Scripts" and "scripts"`},
		{"braces in strings inside skipped values", `{"x":{"a":"}}}","b":["]","{"]},"scripts":1,"SCRIPTS":2}`, `"scripts" and "SCRIPTS"`},
		{"whitespace", " \n{ \"scripts\" : {} ,\n\t\"Scripts\"\t: [ ] }", `"scripts" and "Scripts"`},
		{"values of other types", `{"dist":"x","Dist":null,"_npmUser":"a <b>"}`, `"dist" and "Dist"`},
		{"dist not an object is not scanned", `{"dist":[{"Tarball":1}]}`, ``},
		{"numbers and literals", `{"a":-1.5e+3,"b":true,"c":null,"gypfile":false,"Gypfile":true}`, `"gypfile" and "Gypfile"`},
		{"first found is reported", `{"dist":{"Shasum":"x"},"Scripts":{},"scripts":{}}`, `"dist": "Shasum" and "shasum"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !json.Valid([]byte(c.raw)) {
				t.Fatalf("test input is not JSON: %s", c.raw)
			}
			if got := ambiguousKeys([]byte(c.raw)); got != c.want {
				t.Errorf("ambiguousKeys(%s) = %s, want %s", c.raw, got, c.want)
			}
			if got := ambiguousKeysReference([]byte(c.raw)); got != c.want {
				t.Errorf("reference(%s) = %s, want %s", c.raw, got, c.want)
			}
		})
	}
}

// The schemas must list what encoding/json decodes: every key the table
// flags really does change what the wire structs read.
func TestAmbiguousKeysDecodeDifferently(t *testing.T) {
	clean, err := ParseManifest([]byte(`{"name":"a","scripts":{"postinstall":"x"},"dist":{"tarball":"t","integrity":"i"}}`))
	if err != nil || clean.Ambiguous != "" {
		t.Fatalf("clean: %v %q", err, clean.Ambiguous)
	}
	m, err := ParseManifest([]byte(`{"name":"a","scripts":{"postinstall":"x"},"dist":{"tarball":"t","integrity":"i","Integrity":"j"},"Scripts":{"test":"y"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Scripts["postinstall"] != "" || m.Dist.Integrity != "j" {
		t.Fatalf("encoding/json no longer lets the decoy win (%v, %q): the scanner may be unnecessary", m.Scripts, m.Dist.Integrity)
	}
	if m.Ambiguous != `"dist": "integrity" and "Integrity"` {
		t.Errorf("Ambiguous = %q", m.Ambiguous)
	}
}

func TestParsePackumentAmbiguous(t *testing.T) {
	p, err := ParsePackument([]byte(`{"name":"evil","versions":{` +
		`"1.0.0":{"version":"1.0.0","scripts":{"postinstall":"node steal.js"},"Scripts":{"test":"x"},"dist":{"tarball":"t"}},` +
		`"1.0.1":{"version":"1.0.1","dist":{"tarball":"t"},"Dist":{"tarball":"u"}},` +
		`"1.0.2":{"version":"1.0.2","dist":{"tarball":"t"},"Readme":"x","readme":"y"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{"1.0.0": `"scripts" and "Scripts"`, "1.0.1": `"dist" and "Dist"`, "1.0.2": ``} {
		if got := p.Versions[v].Ambiguous; got != want {
			t.Errorf("%s: Ambiguous = %q, want %q", v, got, want)
		}
	}
}

func TestAmbiguousKeysFixturesClean(t *testing.T) {
	for _, g := range []string{"testdata/packuments/*.json", "testdata/mirror/*.json"} {
		files, _ := filepath.Glob(g)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParsePackument(b)
			if err != nil {
				continue
			}
			for v, m := range p.Versions {
				if m.Ambiguous != "" {
					t.Errorf("%s %s: %s", f, v, m.Ambiguous)
				}
			}
		}
	}
}

// FuzzAmbiguousKeys: the scanner never panics, and on valid JSON it agrees
// with a reference built on json.Decoder's tokens (which unescapes keys
// and tracks depth by construction). foldKey matches bytes.EqualFold, as
// encoding/json's foldName does.
func FuzzAmbiguousKeys(f *testing.F) {
	for _, s := range []string{
		`{"scripts":{},"Scripts":{}}`,
		`{"scripts":{},"\u0053cripts":{},"\u017fcripts":1}`,
		`{"dist":{"integrity":"a","Integrity":"b","signatures":[{"keyid":"","\u212Aeyid":""}]}}`,
		`{"dist":{"attestations":{"url":"","provenance":{"predicateType":"","PREDICATETYPE":""}}}}`,
		`{"_npmUser":{"trustedPublisher":{"id":"","Id":""},"approver":{"approver":{"URL":"","url":""}}}}`,
		`{"readme":"{\"Scripts\":{}}\\","x":[{"}":"]"}],"maintainers":[{"name":"","NAME":""}]}`,
	} {
		f.Add([]byte(s), []byte("scripts"))
	}
	f.Fuzz(func(t *testing.T, data, other []byte) {
		got := ambiguousKeys(data)
		if bytes.Equal(foldKey(nil, data), foldKey(nil, other)) != bytes.EqualFold(data, other) {
			t.Errorf("foldKey disagrees with bytes.EqualFold on %q, %q", data, other)
		}
		if !json.Valid(data) {
			return
		}
		if want := ambiguousKeysReference(data); got != want {
			t.Fatalf("ambiguousKeys(%s) = %q, reference %q", data, got, want)
		}
	})
}

// ambiguousKeysReference is ambiguousKeys written on json.Decoder, slowly.
func ambiguousKeysReference(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return ""
	}
	var s keyScanner
	if err := refObject(dec, &s, manifestKeys, ""); err != nil {
		return "error: " + err.Error()
	}
	return s.found
}

// refObject reads the members of an object whose '{' has been read, and
// its '}'.
func refObject(dec *json.Decoder, s *keyScanner, sc *keySchema, path string) error {
	type spelled struct {
		field int
		key   string
	}
	var seen []spelled
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("not a key")
		}
		field := -1
		if sc != nil {
			// Linear, by bytes.EqualFold: unlike the scanner's maps.
			for i, f := range sc.fields {
				if bytes.EqualFold([]byte(f.name), []byte(key)) {
					field = i
				}
			}
		}
		if field >= 0 && s.found == "" {
			dup := false
			for _, x := range seen {
				if x.field == field {
					dup = true
					if x.key != key {
						s.report(path, x.key, key)
					}
					break
				}
			}
			if !dup {
				seen = append(seen, spelled{field, key})
				if key != sc.fields[field].name && sc.fields[field].strict {
					s.report(path, key, sc.fields[field].name)
				}
			}
		}
		var sub, elems *keySchema
		var sp string
		if field >= 0 {
			sub, elems, sp = sc.fields[field].object, sc.fields[field].elems, join(path, sc.fields[field].name)
		}
		if err := refValue(dec, s, sub, elems, sp); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func refValue(dec *json.Decoder, s *keyScanner, sub, elems *keySchema, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return refObject(dec, s, sub, path)
	case json.Delim('['):
		for dec.More() {
			if err := refValue(dec, s, elems, nil, path); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	return nil
}

func TestFoldKeyMatchesEncodingJSON(t *testing.T) {
	// encoding/json decodes each of these keys into the field "scripts".
	for _, k := range []string{"Scripts", "SCRIPTS", "ſcripts", "ſcriptſ", "scripts"} {
		var v struct {
			Scripts int `json:"scripts"`
		}
		if err := json.Unmarshal([]byte(`{"`+k+`":1}`), &v); err != nil || v.Scripts != 1 {
			t.Fatalf("encoding/json does not fold %q: %v", k, err)
		}
		if !bytes.Equal(foldKey(nil, []byte(k)), foldKey(nil, []byte("scripts"))) {
			t.Errorf("foldKey(%q) = %q", k, foldKey(nil, []byte(k)))
		}
	}
	if strings.Contains(string(foldKey(nil, []byte("\u212A"))), "\u212A") {
		t.Error("Kelvin sign not folded")
	}
}

// BenchmarkAmbiguousKeys is the scan ParsePackument adds, over the
// versions of the benchmark's fixture.
func BenchmarkAmbiguousKeys(b *testing.B) {
	p, err := ParsePackument(readFixture(b, "mirror/is-number.json"))
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, m := range p.Versions {
		n += int64(len(m.Raw))
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range p.Versions {
			if ambiguousKeys(m.Raw) != "" {
				b.Fatal("ambiguous")
			}
		}
	}
}
