package proxy

import (
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		path string
		want route
		err  string
	}{
		{"/debug", route{kind: routePackument, name: "debug"}, ""},
		{"/debug/", route{kind: routePackument, name: "debug"}, ""},
		{"/JSONStream", route{kind: routePackument, name: "JSONStream"}, ""},
		{"/@acme%2finternal", route{kind: routePackument, name: "@acme/internal"}, ""},
		{"/@acme%2Finternal", route{kind: routePackument, name: "@acme/internal"}, ""},
		{"/%40acme%2finternal", route{kind: routePackument, name: "@acme/internal"}, ""},
		{"/@acme/internal", route{kind: routePackument, name: "@acme/internal"}, ""},
		{"/debug/4.4.1", route{kind: routeVersion, name: "debug", spec: "4.4.1"}, ""},
		{"/debug/latest", route{kind: routeVersion, name: "debug", spec: "latest"}, ""},
		{"/@acme%2finternal/1.0.0", route{kind: routeVersion, name: "@acme/internal", spec: "1.0.0"}, ""},
		{"/debug/-/debug-4.4.1.tgz", route{kind: routeTarball, name: "debug", file: "debug-4.4.1.tgz", version: "4.4.1"}, ""},
		{"/debug/-/debug-5.0.0-beta.1+build.7.tgz", route{kind: routeTarball, name: "debug", file: "debug-5.0.0-beta.1+build.7.tgz", version: "5.0.0-beta.1+build.7"}, ""},
		{"/@acme/internal/-/internal-1.0.0.tgz", route{kind: routeTarball, name: "@acme/internal", file: "internal-1.0.0.tgz", version: "1.0.0"}, ""},
		{"/@acme%2finternal/-/internal-1.0.0.tgz", route{kind: routeTarball, name: "@acme/internal", file: "internal-1.0.0.tgz", version: "1.0.0"}, ""},
		{"/@acme/internal/-/@acme/internal-1.0.0.tgz", route{kind: routeTarball, name: "@acme/internal", file: "internal-1.0.0.tgz", version: "1.0.0"}, ""},
		{"/pkg/-/download/abcdef", route{kind: routeTarball, name: "pkg", file: "abcdef"}, ""},
		{"/-/ping", route{kind: routeSpecial, special: "ping"}, ""},
		{"/-/v1/search", route{kind: routeSpecial, special: "v1/search"}, ""},
		{"/-/npm/v1/security/advisories/bulk", route{kind: routeSpecial, special: "npm/v1/security/advisories/bulk"}, ""},
		{"/", route{}, "empty package name"},
		{"/@acme", route{}, "a scope without a package name"},
		{"/.hidden", route{}, "must not start with"},
		{"/a%zz", route{}, "invalid URL escape"},
		{"/debug/4.4.1/extra", route{}, "not a registry path"},
		{"/debug/-/", route{}, "not a registry path"},
		{"/..%2f..%2fetc", route{}, "must not start with"},
	} {
		got, err := parseRoute(tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.path, got, err, tc.want)
		}
	}
}

func TestTarballPathRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, version, want string }{
		{"debug", "4.4.1", "debug/-/debug-4.4.1.tgz"},
		{"@acme/internal", "1.0.0-rc.1", "@acme/internal/-/internal-1.0.0-rc.1.tgz"},
		{"@types/node", "22.0.0+x", "@types/node/-/node-22.0.0+x.tgz"},
	} {
		p := tarballPath(tc.name, tc.version)
		if p != tc.want {
			t.Errorf("tarballPath(%s, %s) = %s, want %s", tc.name, tc.version, p, tc.want)
		}
		rt, err := parseRoute("/" + p)
		if err != nil || rt.kind != routeTarball || rt.name != tc.name || rt.version != tc.version {
			t.Errorf("%s parses back as %+v, %v", p, rt, err)
		}
	}
}
