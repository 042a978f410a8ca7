#!/usr/bin/env bash
# Installs the package-manager clients the end-to-end tests drive (the
# proxy's real-client tests): pnpm 10, yarn 1, yarn 4 and bun, each in its
# own prefix under $VIGIL_CLIENTS_DIR (default ~/.cache/vigil/clients), so
# yarn 1 and yarn 4 do not fight over one `yarn` binary. npm itself is the
# machine's. Idempotent: a client already at the wanted version is kept.
#
# Tests find them at $VIGIL_CLIENTS_DIR/<client>/node_modules/.bin/<bin>
# (internal/clienttest). Needs node/npm and the npm registry.
set -euo pipefail
dir="${VIGIL_CLIENTS_DIR:-$HOME/.cache/vigil/clients}"
mkdir -p "$dir"

install() { # name spec
  local name=$1 spec=$2 prefix="$dir/$1"
  if [ -f "$prefix/.spec" ] && [ "$(cat "$prefix/.spec")" = "$spec" ] && [ -d "$prefix/node_modules" ]; then
    return 0
  fi
  rm -rf "$prefix"
  mkdir -p "$prefix"
  echo '{"name":"vigil-client-'"$name"'","private":true}' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$spec"
  echo "$spec" >"$prefix/.spec"
}

install pnpm pnpm@10
install yarn1 yarn@1
install yarn4 @yarnpkg/cli-dist@4
# bun ships its binary in an optional dependency (@oven/bun-*); when the
# platform has none, the bun tests say so instead of failing.
install bun bun@1 || echo "install-clients: bun could not be installed here" >&2

for c in pnpm/pnpm yarn1/yarn yarn4/yarn bun/bun; do
  bin="$dir/${c%%/*}/node_modules/.bin/${c##*/}"
  if [ -x "$bin" ]; then
    printf '%-6s %s %s\n' "${c%%/*}" "$("$bin" --version 2>/dev/null | head -1)" "$bin"
  fi
done
