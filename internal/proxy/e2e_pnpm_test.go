package proxy

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/clienttest"
)

// pnpm 10 prints the reason phrase of a failed fetch (FetchError:
// "GET <url>: <statusText> - <status>"), which the proxy sets to its
// message for pnpm's User-Agent. A version missing from the metadata is
// pnpm's own ERR_PNPM_NO_MATCHING_VERSION.
var pnpmE2E = clientE2E{
	client:        clienttest.PNPM,
	install:       []string{"install", "--no-frozen-lockfile", "--ignore-scripts"},
	frozen:        []string{"install", "--frozen-lockfile", "--ignore-scripts"},
	lockfile:      "pnpm-lock.yaml",
	pinnedBlocked: []string{"ERR_PNPM_NO_MATCHING_VERSION", "No matching version found for debug@4.4.2"},
	lockBlocked:   []string{"ERR_PNPM_FETCH_403", "debug-4.4.2.tgz: vigil blocked debug@4.4.2: MAL-2025-46974 Malicious code in debug (npm) - 403"},
	tampered:      []string{"ERR_PNPM_FETCH_502", "debug-4.4.1.tgz: vigil: refused debug@4.4.1: the upstream's tarball does not match its dist.integrity"},
	allHeld:       []string{"ERR_PNPM_FETCH_403", "/debug: vigil blocked every version of debug: 4.4.3: debug quarantined: maintainer account compromised;"},
}

func TestPNPMEndToEnd(t *testing.T) { runClientE2E(t, pnpmE2E) }
