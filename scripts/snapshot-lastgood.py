#!/usr/bin/env python3
"""Compute internal/advisory/snapshot/lastgood.json from the OSV snapshot and npm registry metadata.

For every npm package named by a snapshot record that lists explicit affected
versions, the "last good" version is the highest non-prerelease version of the
package that was published strictly before the earliest affected version's
publish time and is not itself listed as affected by any snapshot record.
Releases that sort below every affected version always count as published
before the attack: compromises publish new, higher versions, and registry
mirrors re-stamp old versions with their import time (ua-parser-js 0.7.28
shows up as published in 2024 on some mirrors), which would otherwise hide
the right answer.
Every affected version of the package maps to that one version, e.g.
{"debug": {"4.4.2": "4.4.1"}}.

Publish times come from `npm view <pkg> time --json` (the ordinary npm client).
npm usually purges a malicious release completely, time entry included (debug
4.4.2, chalk 5.6.1, ...). When none of a package's affected versions is dated
any more, the cutoff falls back to the earliest `published` timestamp of the
snapshot records naming the package (the advisory cannot predate the release),
and because a clean re-release may have shipped between the attack and the
advisory, candidates must then also sort below the first affected version of
their own major line (or below every affected version if their line had none).
Packages the registry no longer knows at all (E404, or fully unpublished) are
omitted.

The registry is queried once per package, sequentially; pass --only to limit
the run to a few packages and merge the result into the existing file.

Usage:
  python3 scripts/snapshot-lastgood.py --all
  python3 scripts/snapshot-lastgood.py --only debug,chalk      # merge into existing lastgood.json
  python3 scripts/snapshot-lastgood.py --all --dry-run         # list the packages that would be queried
"""
import argparse
import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOT = os.path.join(ROOT, "internal", "advisory", "snapshot")
OUT = os.path.join(SNAPSHOT, "lastgood.json")

SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def parse(v):
    m = SEMVER.match(v)
    if not m:
        return None
    pre = m.group(4)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)


def key(v):
    # Only release versions are ever compared (prereleases are filtered out before),
    # so a plain numeric tuple orders them correctly.
    p = parse(v)
    return (p[0], p[1], p[2])


def affected_versions():
    """package name -> (set of explicitly listed affected versions, earliest record publish time)."""
    out = {}
    first = {}
    for path in sorted(glob.glob(os.path.join(SNAPSHOT, "*.json"))):
        if os.path.basename(path) == "lastgood.json":
            continue
        with open(path, encoding="utf-8") as f:
            rec = json.load(f)
        if rec.get("withdrawn"):
            continue
        for aff in rec.get("affected") or []:
            pkg = aff.get("package") or {}
            if pkg.get("ecosystem") != "npm" or not pkg.get("name"):
                continue
            vs = aff.get("versions") or []
            if vs:
                out.setdefault(pkg["name"], set()).update(vs)
                if rec.get("published"):
                    p = ts(rec["published"])
                    first[pkg["name"]] = min(p, first.get(pkg["name"], p))
    return {n: (vs, first.get(n)) for n, vs in out.items()}


def publish_times(name):
    """Return the registry's `time` map for name, or None if the package is unknown/unpublished."""
    proc = subprocess.run(["npm", "view", name, "time", "--json"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        if "E404" in proc.stderr or "404" in proc.stderr:
            return None
        raise RuntimeError("npm view %s failed: %s" % (name, proc.stderr.strip()[:500]))
    if not proc.stdout.strip():
        return None
    data = json.loads(proc.stdout)
    if not isinstance(data, dict) or "unpublished" in data:
        return None
    return data


def ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def last_good(times, bad, advisory_time):
    """Compute ({affected version: last good version}, used_fallback) for one package; {} if undecidable."""
    dated = [ts(times[v]) for v in bad if v in times]
    fallback = not dated
    if fallback and advisory_time is None:
        return {}, fallback
    cutoff = min(dated) if dated else advisory_time
    releases = [key(v) for v in bad if parse(v) is not None]
    floor = min(releases, default=None)
    ceiling = max(releases, default=None)

    def good(v, t):
        if v in ("created", "modified", "unpublished") or v in bad:
            return False
        p = parse(v)
        if p is None or p[3] is not None:
            return False
        # Compromises publish new, higher versions, so a release below every affected
        # version predates the attack even when the registry reports a later time
        # (mirrors re-stamp old versions with their import time).
        if floor is not None and key(v) < floor:
            return True
        if ts(t) >= cutoff:
            return False
        if not fallback:
            return True
        # The advisory date is later than the attack, and maintainers often ship a
        # clean re-release in between (is 3.3.2, eslint-config-prettier 10.1.8), so
        # a candidate must also sort below the first affected version of its own
        # major line, or below every affected version if its line had none.
        line = [r for r in releases if r[0] == key(v)[0]]
        return key(v) < (min(line) if line else ceiling)

    candidates = [v for v, t in times.items() if good(v, t)]
    if not candidates:
        return {}, fallback
    best = max(candidates, key=key)
    order = lambda x: (0, key(x), x) if parse(x) is not None else (1, (0, 0, 0), x)
    return {v: best for v in sorted(bad, key=order)}, fallback


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--all", action="store_true", help="query every package with explicit affected versions")
    g.add_argument("--only", help="comma-separated package names; results are merged into the existing file")
    ap.add_argument("--dry-run", action="store_true", help="print the packages that would be queried and exit")
    args = ap.parse_args()

    bad = affected_versions()
    names = sorted(bad) if args.all else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in bad]
    if unknown:
        sys.exit("not in snapshot (or no explicit versions): " + ", ".join(unknown))
    if args.dry_run:
        print("\n".join(names))
        print("%d packages" % len(names), file=sys.stderr)
        return

    result = {}
    if args.only and os.path.exists(OUT):
        with open(OUT, encoding="utf-8") as f:
            result = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    for n in names:
        times = publish_times(n)
        if times is None:
            result.pop(n, None)
            print("%-50s unpublished/unknown, omitted" % n, file=sys.stderr)
            continue
        vs, advisory_time = bad[n]
        lg, fallback = last_good(times, vs, advisory_time)
        if lg:
            result[n] = lg
        else:
            result.pop(n, None)
        print("%-50s %s%s" % (n, lg or "no earlier release", " (cutoff: advisory date)" if fallback else ""), file=sys.stderr)

    doc = {"_generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for k in sorted(result):
        doc[k] = result[k]
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    print("wrote %s (%d packages)" % (OUT, len(result)), file=sys.stderr)


if __name__ == "__main__":
    main()
