package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// renderPlan is what the policy decided for one packument, in the terms the
// renderers need.
type renderPlan struct {
	// removed are the versions held back: dropped from "versions" and
	// from "time".
	removed map[string]bool
	// distTags is where each tag points after filtering; a tag of the
	// upstream document that is absent here is dropped.
	distTags map[string]string
	// tarballURL is the dist.tarball the proxy serves for a version.
	tarballURL func(version string) string
}

// abbreviatedFields are the version fields the registry keeps in the
// abbreviated ("corgi") format: github.com/npm/registry
// docs/responses/package-metadata.md, plus the ones the registry has added
// since (peerDependenciesMeta, cpu, os, libc, deprecated, acceptDependencies).
// hasInstallScript is computed (see writeAbbreviatedVersion).
var abbreviatedFields = map[string]bool{
	"name": true, "version": true, "deprecated": true,
	"dependencies": true, "optionalDependencies": true, "devDependencies": true,
	"bundleDependencies": true, "bundledDependencies": true,
	"peerDependencies": true, "peerDependenciesMeta": true, "acceptDependencies": true,
	"bin": true, "directories": true, "dist": true, "engines": true,
	"_hasShrinkwrap": true, "hasInstallScript": true,
	"cpu": true, "os": true, "libc": true,
}

// renderFull writes the filtered full document: held-back versions and
// their time entries removed, dist-tags re-pointed, tarball URLs moved to
// the proxy, every other byte as received.
func renderFull(raw []byte, p *renderPlan, out *bytes.Buffer) error {
	out.Grow(len(raw))
	out.WriteByte('{')
	first := true
	end, err := scanObject(raw, 0, func(m member) error {
		if !first {
			out.WriteByte(',')
		}
		first = false
		k, err := m.key(raw)
		if err != nil {
			return err
		}
		val := raw[m.valueStart:m.valueEnd]
		if val[0] != '{' {
			out.Write(raw[m.keyStart:m.valueEnd])
			return nil
		}
		out.Write(raw[m.keyStart:m.keyEnd])
		out.WriteByte(':')
		switch k {
		case "versions":
			return writeVersions(raw, m, p, out, false)
		case "dist-tags":
			return writeDistTags(raw, m, p, out)
		case "time":
			return writeFiltered(raw, m, p.removed, out)
		}
		out.Write(val)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rendering packument: %w", err)
	}
	if skipSpace(raw, end) != len(raw) {
		return fmt.Errorf("rendering packument: %w: data after the document", errJSON)
	}
	out.WriteByte('}')
	return nil
}

// renderAbbreviated derives the corgi document from the full one:
// {name, dist-tags, versions (abbreviated), modified}. The proxy fetches only
// the full document upstream, because the cooldown needs its time map; one
// upstream request and one cache entry serve both formats.
func renderAbbreviated(raw []byte, p *renderPlan, out *bytes.Buffer) error {
	var name, distTags, versions, tm member
	var haveName, haveTags, haveVersions, haveTime bool
	end, err := scanObject(raw, 0, func(m member) error {
		k, err := m.key(raw)
		if err != nil {
			return err
		}
		switch k {
		case "name":
			name, haveName = m, true
		case "dist-tags":
			distTags, haveTags = m, true
		case "versions":
			versions, haveVersions = m, true
		case "time":
			tm, haveTime = m, true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rendering abbreviated packument: %w", err)
	}
	if skipSpace(raw, end) != len(raw) {
		return fmt.Errorf("rendering abbreviated packument: %w: data after the document", errJSON)
	}
	out.Grow(len(raw) / 2)
	out.WriteByte('{')
	sep := ""
	if haveName {
		out.WriteString(`"name":`)
		out.Write(raw[name.valueStart:name.valueEnd])
		sep = ","
	}
	if haveTags && raw[distTags.valueStart] == '{' {
		out.WriteString(sep + `"dist-tags":`)
		if err := writeDistTags(raw, distTags, p, out); err != nil {
			return err
		}
		sep = ","
	}
	if haveVersions && raw[versions.valueStart] == '{' {
		out.WriteString(sep + `"versions":`)
		if err := writeVersions(raw, versions, p, out, true); err != nil {
			return err
		}
		sep = ","
	}
	if haveTime && raw[tm.valueStart] == '{' {
		mod, ok, err := findMember(raw, tm.valueStart, "modified")
		if err != nil {
			return err
		}
		if ok {
			out.WriteString(sep + `"modified":`)
			out.Write(raw[mod.valueStart:mod.valueEnd])
		}
	}
	out.WriteByte('}')
	return nil
}

// writeVersions writes the versions object without the removed versions,
// each remaining one with its tarball URL rewritten (and abbreviated when
// asked).
func writeVersions(raw []byte, vm member, p *renderPlan, out *bytes.Buffer, abbreviated bool) error {
	out.WriteByte('{')
	first := true
	_, err := scanObject(raw, vm.valueStart, func(m member) error {
		v, err := m.key(raw)
		if err != nil {
			return err
		}
		if p.removed[v] {
			return nil
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.Write(raw[m.keyStart:m.keyEnd])
		out.WriteByte(':')
		if raw[m.valueStart] != '{' { // null and other oddities: as received
			out.Write(raw[m.valueStart:m.valueEnd])
			return nil
		}
		if abbreviated {
			return writeAbbreviatedVersion(raw, m, p.tarballURL(v), out)
		}
		return writeVersion(raw, m.valueStart, m.valueEnd, p.tarballURL(v), out)
	})
	if err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	out.WriteByte('}')
	return nil
}

// writeVersion copies one version object with dist.tarball replaced.
func writeVersion(raw []byte, start, end int, tarball string, out *bytes.Buffer) error {
	dist, ok, err := findMember(raw, start, "dist")
	if err != nil {
		return err
	}
	if !ok || raw[dist.valueStart] != '{' {
		out.Write(raw[start:end])
		return nil
	}
	out.Write(raw[start:dist.valueStart])
	if err := writeDist(raw, dist.valueStart, dist.valueEnd, tarball, out); err != nil {
		return err
	}
	out.Write(raw[dist.valueEnd:end])
	return nil
}

// writeDist copies a dist object with its tarball replaced.
func writeDist(raw []byte, start, end int, tarball string, out *bytes.Buffer) error {
	tb, ok, err := findMember(raw, start, "tarball")
	if err != nil {
		return err
	}
	if !ok {
		out.Write(raw[start:end])
		return nil
	}
	out.Write(raw[start:tb.valueStart])
	writeJSONString(out, tarball)
	out.Write(raw[tb.valueEnd:end])
	return nil
}

// writeAbbreviatedVersion writes the corgi form of one version: the
// abbreviatedFields in document order, dist with its tarball rewritten, and
// hasInstallScript when the full document's scripts have an install hook
// (how the registry computes it).
func writeAbbreviatedVersion(raw []byte, vm member, tarball string, out *bytes.Buffer) error {
	out.WriteByte('{')
	first := true
	hasFlag, installScript := false, false
	_, err := scanObject(raw, vm.valueStart, func(m member) error {
		k, err := m.key(raw)
		if err != nil {
			return err
		}
		if k == "scripts" && raw[m.valueStart] == '{' {
			installScript, err = hasInstallHook(raw, m.valueStart)
			return err
		}
		if !abbreviatedFields[k] {
			return nil
		}
		if k == "hasInstallScript" {
			hasFlag = true
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		if k == "dist" && raw[m.valueStart] == '{' {
			out.Write(raw[m.keyStart:m.keyEnd])
			out.WriteByte(':')
			return writeDist(raw, m.valueStart, m.valueEnd, tarball, out)
		}
		out.Write(raw[m.keyStart:m.valueEnd])
		return nil
	})
	if err != nil {
		return err
	}
	if installScript && !hasFlag {
		if !first {
			out.WriteByte(',')
		}
		out.WriteString(`"hasInstallScript":true`)
	}
	out.WriteByte('}')
	return nil
}

func hasInstallHook(raw []byte, start int) (bool, error) {
	found := false
	_, err := scanObject(raw, start, func(m member) error {
		k, err := m.key(raw)
		if err != nil {
			return err
		}
		switch k {
		case "preinstall", "install", "postinstall":
			found = true
		}
		return nil
	})
	return found, err
}

// writeDistTags writes dist-tags in the upstream order with each tag's
// target from the plan; tags the plan dropped are left out, and tags the
// plan adds (none today) follow in name order.
func writeDistTags(raw []byte, tm member, p *renderPlan, out *bytes.Buffer) error {
	out.WriteByte('{')
	seen := make(map[string]bool, len(p.distTags))
	first := true
	_, err := scanObject(raw, tm.valueStart, func(m member) error {
		tag, err := m.key(raw)
		if err != nil {
			return err
		}
		target, ok := p.distTags[tag]
		if !ok || seen[tag] {
			return nil
		}
		seen[tag] = true
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.Write(raw[m.keyStart:m.keyEnd])
		out.WriteByte(':')
		writeJSONString(out, target)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dist-tags: %w", err)
	}
	var extra []string
	for tag := range p.distTags {
		if !seen[tag] {
			extra = append(extra, tag)
		}
	}
	slices.Sort(extra)
	for _, tag := range extra {
		if !first {
			out.WriteByte(',')
		}
		first = false
		writeJSONString(out, tag)
		out.WriteByte(':')
		writeJSONString(out, p.distTags[tag])
	}
	out.WriteByte('}')
	return nil
}

// writeFiltered copies an object without the members named in drop.
func writeFiltered(raw []byte, om member, drop map[string]bool, out *bytes.Buffer) error {
	out.WriteByte('{')
	first := true
	_, err := scanObject(raw, om.valueStart, func(m member) error {
		k, err := m.key(raw)
		if err != nil {
			return err
		}
		if drop[k] {
			return nil
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.Write(raw[m.keyStart:m.valueEnd])
		return nil
	})
	if err != nil {
		return fmt.Errorf("time: %w", err)
	}
	out.WriteByte('}')
	return nil
}

func writeJSONString(out *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	out.Write(b)
}
