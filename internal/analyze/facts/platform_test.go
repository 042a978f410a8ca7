package facts

import (
	"reflect"
	"testing"
)

// The platform and native-build fields the payload rules read, in the
// shapes npm accepts (a string or a list), and the registry's version
// object read by the same parser.
func TestParseManifestPlatformFields(t *testing.T) {
	tests := []struct {
		name, json string
		os, cpu    []string
		prebuilt   bool
		devDeps    map[string]string
	}{
		{"lists", `{"os": ["linux", "darwin"], "cpu": ["x64"]}`, []string{"linux", "darwin"}, []string{"x64"}, false, nil},
		{"string and odd types", `{"os": "win32", "cpu": [1, "arm64", ""]}`, []string{"win32"}, []string{"arm64"}, false, nil},
		{"node-pre-gyp binary", `{"binary": {"module_name": "x", "module_path": "./lib/binding/"}, "devDependencies": {"node-gyp": "^10"}}`, nil, nil, true, map[string]string{"node-gyp": "^10"}},
		{"binary as a string is not node-pre-gyp's", `{"binary": "bin/x"}`, nil, nil, false, nil},
		{"registry version object", `{"name": "x", "version": "1.0.0", "_id": "x@1.0.0", "dist": {"tarball": "https://r/x.tgz"}, "os": ["linux"]}`, []string{"linux"}, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ParseManifest([]byte(tt.json))
			if m.Error != "" || !reflect.DeepEqual(m.OS, tt.os) || !reflect.DeepEqual(m.CPU, tt.cpu) || m.PrebuiltBinary != tt.prebuilt ||
				!reflect.DeepEqual(m.DevDependencies, tt.devDeps) {
				t.Errorf("%+v", m)
			}
		})
	}
}
