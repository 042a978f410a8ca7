#!/usr/bin/env bash
# Derives an abbreviated ("corgi", application/vnd.npm.install-v1+json)
# packument from a full one on stdin, with the fields the registry documents
# for that format (github.com/npm/registry docs/responses/package-metadata.md,
# plus peerDependenciesMeta, cpu, os, deprecated and hasInstallScript, which
# the registry also sends). hasInstallScript is computed as the registry does:
# true when scripts has preinstall, install or postinstall.
set -euo pipefail
jq -c '
  def keep: {name, version, dependencies, optionalDependencies, devDependencies,
             bundleDependencies, peerDependencies, peerDependenciesMeta, bin,
             directories, dist, engines, _hasShrinkwrap, cpu, os, deprecated}
            | with_entries(select(.value != null));
  def install: (.scripts // {}) | (has("preinstall") or has("install") or has("postinstall"));
  {name, "dist-tags": .["dist-tags"],
   versions: (.versions | map_values((. | keep) + (if install then {hasInstallScript: true} else {} end))),
   modified: .time.modified}'
