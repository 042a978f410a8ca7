package facts

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
)

// Manifest is what package.json declares.
type Manifest struct {
	// Found is false when the package has no package.json; Error is set
	// when it is not valid JSON (npm would refuse to install it).
	Found bool   `json:"found"`
	Error string `json:"error,omitempty"`

	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	Main    string `json:"main,omitempty"`
	Module  string `json:"module,omitempty"`
	// Browser is the "browser" field when it is a string.
	Browser string `json:"browser,omitempty"`

	Scripts              []Script          `json:"scripts,omitempty"`
	Dependencies         map[string]string `json:"dependencies,omitempty"`
	OptionalDependencies map[string]string `json:"optionalDependencies,omitempty"`
	PeerDependencies     map[string]string `json:"peerDependencies,omitempty"`
	Bin                  map[string]string `json:"bin,omitempty"`
	// Gypfile: package.json sets "gypfile", or a binding.gyp exists — npm
	// then runs node-gyp rebuild at install when no install script is set.
	Gypfile bool `json:"gypfile,omitempty"`

	// OS and CPU restrict the platforms npm installs the package on:
	// platform packages that carry one native binary declare them.
	OS  []string `json:"os,omitempty"`
	CPU []string `json:"cpu,omitempty"`
	// DevDependencies are read for build signals (node-gyp, prebuild).
	DevDependencies map[string]string `json:"devDependencies,omitempty"`
	// PrebuiltBinary: the "binary" object @mapbox/node-pre-gyp reads to
	// fetch or ship a prebuilt addon.
	PrebuiltBinary bool `json:"prebuiltBinary,omitempty"`
}

// Script is one entry of "scripts".
type Script struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	// Line is the line of package.json declaring it (0 when implicit).
	Line int `json:"line,omitempty"`
	// Implicit marks the node-gyp rebuild npm adds for binding.gyp.
	Implicit bool `json:"implicit,omitempty"`
}

// InstallScripts are the lifecycle scripts npm runs when the package is
// installed from a registry, in the order npm runs them.
var InstallScripts = []string{"preinstall", "install", "postinstall"}

// PrepareScripts run when the package is installed from git or a local
// folder (and prepublish, on install, with npm 6 and older).
var PrepareScripts = []string{"preprepare", "prepare", "postprepare", "prepublish"}

// IsInstall reports whether a script name runs at registry install time.
func IsInstall(name string) bool {
	for _, n := range InstallScripts {
		if n == name {
			return true
		}
	}
	return false
}

// IsLifecycle reports whether a script name runs on some install.
func IsLifecycle(name string) bool {
	if IsInstall(name) {
		return true
	}
	for _, n := range PrepareScripts {
		if n == name {
			return true
		}
	}
	return false
}

// Script returns the named script.
func (m *Manifest) Script(name string) (Script, bool) {
	for _, s := range m.Scripts {
		if s.Name == name {
			return s, true
		}
	}
	return Script{}, false
}

type rawManifest struct {
	Name                 any               `json:"name"`
	Version              any               `json:"version"`
	Main                 any               `json:"main"`
	Module               any               `json:"module"`
	Browser              any               `json:"browser"`
	Scripts              map[string]any    `json:"scripts"`
	Dependencies         map[string]any    `json:"dependencies"`
	OptionalDependencies map[string]any    `json:"optionalDependencies"`
	PeerDependencies     map[string]any    `json:"peerDependencies"`
	Bin                  json.RawMessage   `json:"bin"`
	Gypfile              any               `json:"gypfile"`
	Directories          map[string]string `json:"directories"`
	DevDependencies      map[string]any    `json:"devDependencies"`
	OS                   any               `json:"os"`
	CPU                  any               `json:"cpu"`
	Binary               any               `json:"binary"`
}

// ParseManifest reads a package.json — or a version object of a
// registry packument, which has the same fields — leniently: npm
// tolerates odd types in most fields, and a malicious manifest must still
// be described. Invalid JSON is reported in Manifest.Error.
func ParseManifest(data []byte) Manifest { return parseManifest(data) }

func parseManifest(data []byte) Manifest {
	m := Manifest{Found: true}
	var raw rawManifest
	if err := unmarshalExact(data, &raw); err != nil {
		m.Error = err.Error()
		return m
	}
	m.Name = str(raw.Name)
	m.Version = str(raw.Version)
	m.Main = str(raw.Main)
	m.Module = str(raw.Module)
	m.Browser = str(raw.Browser)
	if b, ok := raw.Gypfile.(bool); ok {
		m.Gypfile = b
	}
	names := make([]string, 0, len(raw.Scripts))
	for k := range raw.Scripts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cmd, ok := raw.Scripts[k].(string)
		if !ok {
			continue
		}
		m.Scripts = append(m.Scripts, Script{Name: k, Command: cmd, Line: keyLine(data, k)})
	}
	m.Dependencies = strMap(raw.Dependencies)
	m.OptionalDependencies = strMap(raw.OptionalDependencies)
	m.PeerDependencies = strMap(raw.PeerDependencies)
	m.DevDependencies = strMap(raw.DevDependencies)
	m.OS, m.CPU = strList(raw.OS), strList(raw.CPU)
	_, m.PrebuiltBinary = raw.Binary.(map[string]any)
	if len(raw.Bin) > 0 {
		var s string
		var mp map[string]any
		switch {
		case json.Unmarshal(raw.Bin, &s) == nil && s != "":
			name := m.Name
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			m.Bin = map[string]string{name: s}
		case json.Unmarshal(raw.Bin, &mp) == nil:
			m.Bin = strMap(mp)
		}
	}
	return m
}

// rawManifestKeys are rawManifest's JSON names.
var rawManifestKeys = func() []string {
	t := reflect.TypeFor[rawManifest]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return keys
}()

// unmarshalExact decodes data into raw reading only the keys spelled
// exactly as rawManifest's tags. encoding/json alone matches keys
// case-insensitively, the last one winning, so a decoy "Scripts" after
// "scripts" would hide the install scripts npm runs (npm reads keys
// exactly). Duplicates of one exact key keep the last, as JSON.parse does.
func unmarshalExact(data []byte, raw *rawManifest) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range rawManifestKeys {
		v, ok := top[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		q, _ := json.Marshal(k)
		b.Write(q)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return json.Unmarshal(b.Bytes(), raw)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// strList reads a field npm accepts as a string or an array of strings.
func strList(v any) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			return []string{v}
		}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func strMap(in map[string]any) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// keyLine finds the line of the first "key": in a JSON document (0 when
// not found); good enough to point a reader at a script.
func keyLine(data []byte, key string) int {
	quoted, _ := json.Marshal(key)
	for off := 0; off < len(data); {
		i := bytes.Index(data[off:], quoted)
		if i < 0 {
			return 0
		}
		j := off + i + len(quoted)
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n') {
			j++
		}
		if j < len(data) && data[j] == ':' {
			return bytes.Count(data[:off+i], []byte{'\n'}) + 1
		}
		off += i + 1
	}
	return 0
}
