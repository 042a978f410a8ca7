#!/bin/sh
# Writes the small workspace project that the pnpm and bun fixtures are generated from, into $1.
# It needs a git repository, a packed tarball and a tarball served over HTTP at fixed places (they
# are named in the lockfiles), made here when missing; serve the second tarball with
#   (cd /tmp/vigil-pnpmbun/serve && python3 -m http.server 48731 --bind 127.0.0.1)
set -e
W=/tmp/vigil-pnpmbun
if [ ! -d $W/gitrepo/.git ]; then
  mkdir -p $W/gitrepo && (cd $W/gitrepo && git init -q &&
    echo '{"name":"git-pkg","version":"1.0.0","dependencies":{"ms":"2.1.3"}}' > package.json &&
    git add . && git -c user.email=a@b -c user.name=x commit -qm init)
fi
if [ ! -f $W/tgz/local-tgz-1.0.0.tgz ]; then
  mkdir -p $W/tgz/local-tgz $W/tgz/remote-tgz $W/serve
  echo '{"name":"local-tgz","version":"1.0.0","dependencies":{"kind-of":"6.0.3"}}' > $W/tgz/local-tgz/package.json
  echo '{"name":"remote-tgz","version":"2.0.0"}' > $W/tgz/remote-tgz/package.json
  (cd $W/tgz/local-tgz && npm pack --pack-destination $W/tgz >/dev/null)
  (cd $W/tgz/remote-tgz && npm pack --pack-destination $W/serve >/dev/null)
fi
d=$1; mkdir -p "$d"; cd "$d"
mkdir -p packages/web packages/lib vendor/local-dir linked/ext
cat > package.json <<'EOF'
{
  "name": "fx-root",
  "version": "1.0.0",
  "private": true,
  "workspaces": ["packages/*"],
  "dependencies": {
    "react-dom": "18.2.0",
    "react": "18.2.0",
    "string-width-cjs": "npm:string-width@4.2.3",
    "is-odd": "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz",
    "local-dir": "file:./vendor/local-dir",
    "ext": "link:./linked/ext",
    "git-pkg": "git+file:///tmp/vigil-pnpmbun/gitrepo",
    "local-tgz": "file:./vendor/local-tgz-1.0.0.tgz",
    "remote-tgz": "http://127.0.0.1:48731/remote-tgz-2.0.0.tgz"
  },
  "devDependencies": {
    "debug": "4.3.4",
    "ms": "2.0.0"
  },
  "optionalDependencies": {
    "is-number": "7.0.0"
  }
}
EOF
printf 'packages:\n  - packages/*\n' > pnpm-workspace.yaml
cat > packages/web/package.json <<'EOF'
{
  "name": "@fx/web",
  "version": "0.1.0",
  "dependencies": {
    "@fx/lib": "workspace:*",
    "react": "18.3.1",
    "use-sync-external-store": "1.2.0"
  },
  "devDependencies": {
    "ms": "2.1.3"
  }
}
EOF
cat > packages/lib/package.json <<'EOF'
{
  "name": "@fx/lib",
  "version": "0.2.0",
  "dependencies": {
    "ms": "2.1.3"
  }
}
EOF
echo '{ "name": "local-dir", "version": "0.0.1", "dependencies": { "ms": "2.1.2" } }' > vendor/local-dir/package.json
cp /tmp/vigil-pnpmbun/tgz/local-tgz-1.0.0.tgz vendor/
echo '{ "name": "ext", "version": "0.0.2" }' > linked/ext/package.json
