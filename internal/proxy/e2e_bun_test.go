package proxy

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/clienttest"
)

// bun prints only "GET <url> - <status>" for a failed download, <url> being
// the last URL of its redirect chain: the proxy redirects bun once to the
// same path with the message in ?reason=.
var bunE2E = clientE2E{
	client:        clienttest.Bun,
	install:       []string{"install", "--ignore-scripts", "--no-progress"},
	frozen:        []string{"install", "--frozen-lockfile", "--ignore-scripts", "--no-progress"},
	lockfile:      "bun.lock",
	pinnedBlocked: []string{`No version matching "4.4.2" found for specifier "debug"`},
	lockBlocked:   []string{"GET http://127.0.0.1:", "/debug/-/debug-4.4.2.tgz?reason=vigil+blocked+debug@4.4.2:+MAL-2025-46974+Malicious+code+in+debug+(npm) - 403"},
	tampered:      []string{"debug-4.4.1.tgz?reason=vigil:+refused+debug@4.4.1:+the+upstream%27s+tarball+does+not+match+its+dist.integrity+sha512-", " - 502"},
	allHeld:       []string{"/debug?reason=vigil+blocked+every+version+of+debug:+4.4.3:+debug+quarantined:+maintainer+account+compromised%3B", " - 403"},
}

func TestBunEndToEnd(t *testing.T) { runClientE2E(t, bunE2E) }
