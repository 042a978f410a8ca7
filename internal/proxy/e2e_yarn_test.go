package proxy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-sec/vigil/internal/clienttest"
)

// yarn 1 prints a registry error body's "error" for metadata requests, but
// for a tarball only the status code and its standard phrase
// (http.STATUS_CODES): a blocked tarball is `Request failed "403
// Forbidden"`, and the reason is in the proxy's log and records only.
var yarn1E2E = clientE2E{
	client:        clienttest.Yarn1,
	install:       []string{"install", "--non-interactive", "--ignore-scripts", "--no-progress"},
	frozen:        []string{"install", "--frozen-lockfile", "--non-interactive", "--ignore-scripts", "--no-progress"},
	lockfile:      "yarn.lock",
	pinnedBlocked: []string{`Couldn't find any versions for "debug" that matches "4.4.2"`},
	lockBlocked:   []string{`debug-4.4.2.tgz: Request failed "403 Forbidden"`},
	tampered:      []string{`debug-4.4.1.tgz: Request failed "502 Bad Gateway"`},
	allHeld:       []string{"/debug: vigil blocked every version of debug: 4.4.3: debug quarantined: maintainer account compromised;"},
}

// yarn 4 prints the reason phrase of a failed request ("Response Code: 403
// (<statusMessage>)"), which the proxy sets to its message for yarn's
// User-Agent.
var yarn4E2E = clientE2E{
	client:   clienttest.Yarn4,
	install:  []string{"install"},
	frozen:   []string{"install", "--immutable"},
	lockfile: "yarn.lock",
	// An empty yarn.lock makes the folder a project of its own.
	prepare: func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, "yarn.lock"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	},
	// node_modules, so the tests can read what was installed (and scripts
	// off: clienttest sets YARN_ENABLE_SCRIPTS=false).
	env:           map[string]string{"YARN_NODE_LINKER": "node-modules"},
	pinnedBlocked: []string{"YN0082", "debug@npm:4.4.2: No candidates found"},
	lockBlocked:   []string{"Response Code: 403 (vigil blocked debug@4.4.2: MAL-2025-46974 Malicious code in debug (npm))"},
	tampered:      []string{"Response Code: 502 (vigil: refused debug@4.4.1: the upstream's tarball does not match its dist.integrity"},
	allHeld:       []string{"Response Code: 403 (vigil blocked every version of debug: 4.4.3: debug quarantined: maintainer account compromised;"},
}

func TestYarn1EndToEnd(t *testing.T) { runClientE2E(t, yarn1E2E) }

func TestYarn4EndToEnd(t *testing.T) { runClientE2E(t, yarn4E2E) }
