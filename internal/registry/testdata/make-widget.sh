#!/usr/bin/env bash
# Builds the synthetic @vigil-test/widget fixture: its tarballs, its full and
# abbreviated packuments in the npm registry's format, and the registry key
# that signs them. Run from this directory: ./make-widget.sh
#
# The tarballs are byte-for-byte reproducible (fixed mtime, owner and order,
# gzip -n). The ECDSA signatures are not: every run makes a fresh signing key,
# so the whole set (keys.json and dist.signatures) is replaced together.
# Needs bash, GNU tar, gzip, openssl and jq.
set -euo pipefail
cd "$(dirname "$0")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

name='@vigil-test/widget'
base='https://registry.npmjs.org/@vigil-test/widget/-'

# --- signing key, published the way npm publishes its own at /-/npm/v1/keys
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem" 2>/dev/null
openssl ec -in "$work/key.pem" -pubout -outform DER -out "$work/pub.der" 2>/dev/null
pub=$(base64 -w0 "$work/pub.der")
keyid="SHA256:$(openssl dgst -sha256 -binary "$work/pub.der" | base64 -w0 | tr -d '=')"
jq -n --arg k "$pub" --arg id "$keyid" \
  '{keys:[{expires:null,keyid:$id,keytype:"ecdsa-sha2-nistp256",scheme:"ecdsa-sha2-nistp256",key:$k}]}' >keys.json

# --- tarballs
tarball() { # version [scripts-json] [setup.js body]
  local v=$1 d="$work/w-$1"
  mkdir -p "$d/package"
  jq -n --arg v "$v" --argjson scripts "${2:-null}" '
    {name:"@vigil-test/widget",version:$v,
     description:"Fixture package for Vigil'"'"'s registry client tests",
     main:"index.js",license:"MIT"} + (if $scripts then {scripts:$scripts} else {} end)' >"$d/package/package.json"
  printf 'module.exports = function widget() { return "%s"; };\n' "$v" >"$d/package/index.js"
  [ -z "${3:-}" ] || printf '%s\n' "$3" >"$d/package/setup.js"
  (cd "$d" && tar --sort=name --mtime='1985-10-26 08:15:00 UTC' --owner=0 --group=0 --numeric-owner \
     --mode='u=rw,go=r' --format=ustar -cf - $(find package -type f | sort) | gzip -n -9) >"tarballs/widget-$v.tgz"
}
install='{"postinstall":"node setup.js"}'
setup='// fixture stand-in for an install-time script; it does nothing
console.log("setup");'
for v in 1.0.0 1.1.0 2.0.0-beta.1 2.0.0 1.1.1 2.0.1; do tarball "$v"; done
tarball 2.1.0 "$install" "$setup"
tarball 2.1.1 "$install" "$setup" # unpublished: served only at its conventional URL

# --- dist objects as the registry computes them
dist() { # version
  local f="tarballs/widget-$1.tgz"
  local integrity="sha512-$(openssl dgst -sha512 -binary "$f" | base64 -w0)"
  local sig
  sig=$(printf '%s' "$name@$1:$integrity" | openssl dgst -sha256 -sign "$work/key.pem" | base64 -w0)
  jq -n --arg v "$1" --arg i "$integrity" --arg s "$(sha1sum "$f" | cut -c1-40)" \
     --arg t "$base/widget-$1.tgz" --arg sig "$sig" --arg id "$keyid" \
     --argjson files "$(tar tzf "$f" | wc -l)" \
     --argjson size "$(tar tzvf "$f" | awk '{s+=$3} END {print s}')" \
     '{integrity:$i,shasum:$s,tarball:$t,fileCount:$files,unpackedSize:$size,
       signatures:[{keyid:$id,sig:$sig}]}'
}
attest() { # dist-json version -> with dist.attestations, as npm adds for provenance
  jq --arg u "https://registry.npmjs.org/-/npm/v1/attestations/@vigil-test%2fwidget@$1" \
     '. + {attestations:{url:$u,provenance:{predicateType:"https://slsa.dev/provenance/v1"}}}'
}

alice='{"name":"alice","email":"alice@example.com"}'
# After the (fictional) account takeover the account's email changed.
alice_taken='{"name":"alice","email":"alice-recovery@example.net"}'
gha='{"name":"GitHub Actions","email":"npm-oidc-no-reply@github.com","trustedPublisher":{"id":"github","oidcConfigId":"oidc:00000000-0000-4000-8000-000000000001"}}'
maintainers='[{"name":"alice","email":"alice@example.com"},{"name":"bob","email":"bob@example.com"}]'

version() { # version npmUser provenance(yes|no) gitHead [scripts-json] [deprecated]
  local v=$1 d
  d=$(dist "$v")
  [ "$3" = no ] || d=$(attest "$v" <<<"$d")
  jq -n --arg v "$v" --argjson user "$2" --argjson dist "$d" --arg head "$4" \
     --argjson scripts "${5:-null}" --arg dep "${6:-}" --argjson m "$maintainers" '
    {name:"@vigil-test/widget",version:$v,
     description:"Fixture package for Vigil'"'"'s registry client tests",main:"index.js",license:"MIT"}
    + (if $scripts then {scripts:$scripts} else {} end)
    + (if $head != "" then {gitHead:$head} else {} end)
    + {_id:"@vigil-test/widget@\($v)",_nodeVersion:"22.11.0",_npmVersion:"10.9.0",dist:$dist,_npmUser:$user,
       directories:{},maintainers:$m,
       _npmOperationalInternal:{host:"s3://npm-registry-packages-npm-production",tmp:"tmp/widget_\($v)_0_0.1"},
       _hasShrinkwrap:false}
    + (if $dep != "" then {deprecated:$dep} else {} end)'
}

v100=$(version 1.0.0 "$alice" no 1a2b3c4d5e6f708192a3b4c5d6e7f80910a1b2c3)
v110=$(version 1.1.0 "$alice" yes 2b3c4d5e6f708192a3b4c5d6e7f80910a1b2c3d4)
vb1=$(version 2.0.0-beta.1 "$gha" yes 3c4d5e6f708192a3b4c5d6e7f80910a1b2c3d4e5 null 'superseded by 2.0.0')
v200=$(version 2.0.0 "$gha" yes 4d5e6f708192a3b4c5d6e7f80910a1b2c3d4e5f6)
v111=$(version 1.1.1 "$gha" yes 5e6f708192a3b4c5d6e7f80910a1b2c3d4e5f607)
v201=$(version 2.0.1 "$gha" yes 6f708192a3b4c5d6e7f80910a1b2c3d4e5f60718)
# The suspicious release: a token publish by a changed account, no provenance,
# no gitHead, a new postinstall script.
v210=$(version 2.1.0 "$alice_taken" no '' "$install")

jq -n --argjson a "$v100" --argjson b "$v110" --argjson c "$vb1" --argjson d "$v200" \
   --argjson e "$v111" --argjson f "$v201" --argjson g "$v210" --argjson m "$maintainers" '
{_id:"@vigil-test/widget",_rev:"9-5f2b0c1d6e3a4b5c8d7e6f5a4b3c2d1e",name:"@vigil-test/widget",
 description:"Fixture package for Vigil'"'"'s registry client tests",
 "dist-tags":{latest:"2.1.0",next:"2.0.0-beta.1",v1:"1.1.1"},
 versions:{"1.0.0":$a,"1.1.0":$b,"2.0.0-beta.1":$c,"2.0.0":$d,"1.1.1":$e,"2.0.1":$f,"2.1.0":$g},
 time:{created:"2024-01-10T09:00:00.000Z",modified:"2024-09-08T14:05:12.345Z",
       "1.0.0":"2024-01-10T09:00:00.123Z","1.1.0":"2024-03-05T10:30:00.456Z",
       "2.0.0-beta.1":"2024-05-01T12:00:00.789Z","2.0.0":"2024-06-01T12:00:00.012Z",
       "1.1.1":"2024-07-01T08:45:00.345Z","2.0.1":"2024-08-01T16:20:00.678Z",
       "2.1.0":"2024-09-08T13:16:00.901Z","2.1.1":"2024-09-08T14:02:00.234Z"},
 maintainers:$m,license:"MIT",readme:"# widget\n\nFixture package.\n",readmeFilename:"README.md"}' \
 | jq -c . >packuments/widget.json

./abbreviate.sh <packuments/widget.json >packuments/widget.abbreviated.json
