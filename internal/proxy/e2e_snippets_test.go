package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/clienttest"
	"github.com/vigil-sec/vigil/internal/store"
)

// README.md's "Protect your installs" shows one configuration file per
// client between markers:
//
//	<!-- snippet: npmrc -->
//	```ini
//	registry=http://127.0.0.1:4873/
//	```
//	<!-- /snippet -->
//
// TestReadmeSnippets writes each snippet, as written but for the proxy's
// port, into a project and runs the client in an environment that names no
// registry (clienttest.NewEnvWithoutRegistry): only the snippet can send
// the client to the proxy.

// readmePath is the README, from this package's folder.
const readmePath = "../../README.md"

// snippetPlaceholder is the proxy address the snippets are written for
// (vigil proxy's default listen address); the tests put the test proxy's
// address in its place.
const snippetPlaceholder = "127.0.0.1:4873"

// readmeSnippet is the body of the fenced code block between a snippet's
// markers: its lines, each ending in "\n" ("" for an empty block).
type readmeSnippet struct {
	name string
	line int // the body's first line, 1-based
	body string
}

var (
	snippetOpen  = regexp.MustCompile(`^<!--\s*snippet:\s*([a-z0-9][a-z0-9-]*)\s*-->$`)
	snippetClose = regexp.MustCompile(`^<!--\s*/snippet\s*-->$`)
)

// parseSnippets reads the snippets of a Markdown file (file names it in
// errors). Between its markers a snippet holds exactly one fenced code
// block and blank lines; names are unique.
func parseSnippets(file string, data []byte) (map[string]readmeSnippet, error) {
	out := map[string]readmeSnippet{}
	errAt := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: "+format, append([]any{file, line}, args...)...)
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var (
		open      *readmeSnippet // the snippet being read
		openedAt  int
		fence     string // the open code block's backticks; "" outside one
		fences    int    // code blocks in the open snippet
		bodyStart int
		body      []string
	)
	for i, raw := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(raw)
		if open != nil && fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, "`") == "" {
				fence = ""
				open.line, open.body = bodyStart, ""
				if len(body) > 0 {
					open.body = strings.Join(body, "\n") + "\n"
				}
				continue
			}
			body = append(body, raw)
			continue
		}
		if m := snippetOpen.FindStringSubmatch(trimmed); m != nil {
			if open != nil {
				return nil, errAt(n, "snippet %q opens inside snippet %q (line %d): close it with <!-- /snippet -->", m[1], open.name, openedAt)
			}
			if prev, dup := out[m[1]]; dup {
				return nil, errAt(n, "snippet %q is defined twice (first at line %d)", m[1], prev.line)
			}
			open, openedAt, fences, body = &readmeSnippet{name: m[1]}, n, 0, nil
			continue
		}
		if snippetClose.MatchString(trimmed) {
			if open == nil {
				return nil, errAt(n, "<!-- /snippet --> closes no snippet")
			}
			if fences != 1 {
				return nil, errAt(n, "snippet %q holds %d code blocks, want exactly one", open.name, fences)
			}
			out[open.name] = *open
			open = nil
			continue
		}
		if open == nil {
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
			fences++
			bodyStart, body = n+1, nil
			if fences > 1 {
				return nil, errAt(n, "snippet %q holds more than one code block", open.name)
			}
		case trimmed != "":
			return nil, errAt(n, "snippet %q has text outside its code block: %q", open.name, trimmed)
		}
	}
	switch {
	case open != nil && fence != "":
		return nil, errAt(len(lines), "snippet %q: the code block opened at line %d is not closed", open.name, bodyStart-1)
	case open != nil:
		return nil, errAt(len(lines), "snippet %q opened at line %d is not closed with <!-- /snippet -->", open.name, openedAt)
	}
	return out, nil
}

func TestParseSnippets(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]readmeSnippet
		err      string
	}{
		{name: "one", in: "# x\n<!-- snippet: npmrc -->\n```ini\nregistry=http://h/\n@a:registry=http://h/\n```\n<!-- /snippet -->\n",
			want: map[string]readmeSnippet{"npmrc": {name: "npmrc", line: 4, body: "registry=http://h/\n@a:registry=http://h/\n"}}},
		{name: "two, crlf, blank lines, longer fence", in: "<!-- snippet: a -->\r\n\r\n````yaml\r\nk: \"```\"\r\n````\r\n\r\n<!-- /snippet -->\r\ntext\r\n<!-- snippet: b-2 -->\n```\n```\n<!-- /snippet -->",
			want: map[string]readmeSnippet{"a": {name: "a", line: 4, body: "k: \"```\"\n"}, "b-2": {name: "b-2", line: 11, body: ""}}},
		{name: "no snippets", in: "```sh\nvigil proxy\n```\n", want: map[string]readmeSnippet{}},
		{name: "unclosed snippet", in: "<!-- snippet: a -->\n```\nx\n```\n", err: `README.md:5: snippet "a" opened at line 1 is not closed`},
		{name: "unclosed fence", in: "<!-- snippet: a -->\n```\nx\n<!-- /snippet -->\n", err: `README.md:5: snippet "a": the code block opened at line 2 is not closed`},
		{name: "nested", in: "<!-- snippet: a -->\n<!-- snippet: b -->\n", err: `README.md:2: snippet "b" opens inside snippet "a" (line 1)`},
		{name: "stray close", in: "text\n<!-- /snippet -->\n", err: "README.md:2: <!-- /snippet --> closes no snippet"},
		{name: "no block", in: "<!-- snippet: a -->\n\n<!-- /snippet -->\n", err: `README.md:3: snippet "a" holds 0 code blocks, want exactly one`},
		{name: "two blocks", in: "<!-- snippet: a -->\n```\n```\n```\n```\n<!-- /snippet -->\n", err: `README.md:4: snippet "a" holds more than one code block`},
		{name: "prose inside", in: "<!-- snippet: a -->\nwords\n```\n```\n<!-- /snippet -->\n", err: `README.md:2: snippet "a" has text outside its code block: "words"`},
		{name: "duplicate", in: "<!-- snippet: a -->\n```\n```\n<!-- /snippet -->\n<!-- snippet: a -->\n", err: `README.md:5: snippet "a" is defined twice (first at line 3)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSnippets("README.md", []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzParseSnippets: any input is read or refused with an error naming a
// line, and what is read is a part of the input.
func FuzzParseSnippets(f *testing.F) {
	if readme, err := os.ReadFile(readmePath); err == nil {
		f.Add(readme)
	}
	f.Add([]byte("<!-- snippet: a -->\n```ini\nx=1\n```\n<!-- /snippet -->\n"))
	f.Add([]byte("<!-- snippet: a -->\r\n````\r\n```\r\n````\r\n<!-- /snippet -->"))
	f.Add([]byte("<!-- snippet: a -->\n<!-- /snippet -->\n<!-- /snippet -->"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseSnippets("f.md", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.md:") {
				t.Fatalf("error without a place: %v", err)
			}
			return
		}
		lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
		for name, s := range got {
			if name != s.name || !snippetOpen.MatchString("<!-- snippet: "+name+" -->") {
				t.Fatalf("bad name %q / %q", name, s.name)
			}
			// The body is the input's lines from s.line on.
			var body []string
			if s.body != "" {
				body = strings.Split(strings.TrimSuffix(s.body, "\n"), "\n")
			}
			if s.line < 2 || s.line-1+len(body) > len(lines) || !slices.Equal(lines[s.line-1:s.line-1+len(body)], body) {
				t.Fatalf("snippet %q (line %d) body %q is not the input's lines there", name, s.line, s.body)
			}
		}
	})
}

// readmeSnippets reads README.md's snippets.
func readmeSnippets(t *testing.T) map[string]readmeSnippet {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	snippets, err := parseSnippets("README.md", data)
	if err != nil {
		t.Fatal(err)
	}
	return snippets
}

// TestReadmeSnippets proves each client, configured by README.md's snippet
// alone, installs through the proxy: debug ^4.3.0 resolves to 4.4.1 (the
// upstream's newest, 4.4.3, is held back: only the proxy serves 4.4.1),
// and @acme/internal is the private registry's 1.0.0 (not the public
// impostor's 99.0.0), with both tarballs recorded by the proxy.
func TestReadmeSnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end client tests skipped with -short")
	}
	snippets := readmeSnippets(t)
	for _, tc := range []struct {
		client, snippet, file string
		install               []string
		spec                  clientE2E // prepare and env, when the client needs them
	}{
		{client: clienttest.NPM, snippet: "npmrc", file: ".npmrc", install: []string{"install", "--ignore-scripts"}},
		{client: clienttest.PNPM, snippet: "npmrc", file: ".npmrc", install: pnpmE2E.install},
		{client: clienttest.Yarn1, snippet: "npmrc", file: ".npmrc", install: yarn1E2E.install},
		{client: clienttest.Yarn4, snippet: "yarnrc-yml", file: ".yarnrc.yml", install: yarn4E2E.install, spec: yarn4E2E},
		{client: clienttest.Bun, snippet: "bunfig", file: "bunfig.toml", install: bunE2E.install},
	} {
		t.Run(tc.client, func(t *testing.T) {
			clienttest.Require(t, tc.client)
			t.Parallel()
			snip, ok := snippets[tc.snippet]
			if !ok {
				t.Fatalf("README.md has no snippet %q", tc.snippet)
			}
			if !strings.Contains(snip.body, snippetPlaceholder) {
				t.Fatalf("README.md:%d: snippet %q does not mention %s", snip.line, tc.snippet, snippetPlaceholder)
			}
			st := e2eStack(t)
			dir := tc.spec.project(t, map[string]string{"debug": "^4.3.0", "@acme/internal": "^1.0.0"})
			config := strings.ReplaceAll(snip.body, snippetPlaceholder, st.proxy.Listener.Addr().String())
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(config), 0o644); err != nil {
				t.Fatal(err)
			}
			env := clienttest.NewEnvWithoutRegistry(t)
			for k, v := range tc.spec.env {
				env.Set(k, v)
			}
			res := env.Run(t, dir, clientRunTimeout, tc.client, tc.install...)
			if res.Err != nil {
				t.Fatalf("install with README.md's %s (line %d): %v", tc.file, snip.line, res.Err)
			}
			if v := installedVersion(t, dir, "debug"); v != "4.4.1" {
				t.Errorf("installed debug %q, want 4.4.1 (through the proxy)", v)
			}
			if v := installedVersion(t, dir, "@acme/internal"); v != "1.0.0" {
				t.Errorf("installed @acme/internal %q, want the private 1.0.0", v)
			}
			recs := st.records.all()
			for _, want := range []string{"debug@4.4.1", "@acme/internal@1.0.0"} {
				if !slices.ContainsFunc(recs, func(r store.Download) bool { return r.Name+"@"+r.Version == want && r.Status == 200 }) {
					t.Errorf("the proxy did not serve %s: %+v", want, recs)
				}
			}
		})
	}
}
