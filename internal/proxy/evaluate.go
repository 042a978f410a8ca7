package proxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/registry"
)

// variant is a served form of a packument.
type variant string

const (
	variantFull        variant = "full"
	variantAbbreviated variant = "abbreviated"
)

// rendered is a filtered, rewritten packument ready to send: computed once
// per (document, policy generation, variant) and kept in a byte-bounded
// LRU until the evaluation's ValidUntil passes.
type rendered struct {
	body, gz    []byte // gz: the same, gzip-compressed once
	etag        string // strong, from the body's hash
	contentType string
	notice      string // npm-notice: what was held back
	// forbidden, when set, is the error message of a package whose every
	// version is held back: answered with 403 rather than an empty document.
	forbidden  string
	validUntil time.Time
}

func (r *rendered) valid(now time.Time) bool {
	return r.validUntil.IsZero() || now.Before(r.validUntil)
}

func evalKey(docKey, id string, gen, epoch uint64) string {
	return docKey + "|" + id + "|" + strconv.FormatUint(gen, 10) + "." + strconv.FormatUint(epoch, 10)
}

// evaluate applies the policy in force to a document, once per (document,
// generation) while valid. The evaluation is keyed by doc.key, which names
// the route's package, and evaluates the document under that name
// (docResult.packument).
func (s *Server) evaluate(doc *docResult) (*evaluation, error) {
	st := s.policy.Load()
	epoch := s.epochs.of(doc.name)
	ek := evalKey(doc.key, doc.id, st.gen, epoch)
	now := s.now()
	if e, ok := s.evals.get(ek); ok && e.valid(now) {
		return e, nil
	}
	v, err, _ := s.flight.Do("eval|"+ek, func() (any, error) {
		pk, err := doc.packument()
		if err != nil {
			if doc.pk == nil {
				// A cached body that cannot be evaluated (unreadable, or
				// another package's) is dropped, so that the next request
				// fetches the document afresh instead of revalidating it.
				s.forgetDocument(doc.key)
			}
			return nil, err
		}
		e := newEvaluation(pk, st.decider.Evaluate(pk), doc.id, st.gen, epoch)
		s.evals.add(ek, e, e.size)
		s.held.update(e, now)
		for v := range e.Removed {
			d := e.Decisions[v]
			for _, r := range d.Reasons {
				if r.Action == d.Action {
					s.metrics.decisions.inc(string(d.Action), string(r.Rule), "packument")
				}
			}
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*evaluation), nil
}

func renderKey(docKey, id string, gen, epoch uint64, v variant) string {
	return evalKey(docKey, id, gen, epoch) + "|" + string(v)
}

// render returns the served form of doc under e.
func (s *Server) render(doc *docResult, e *evaluation, v variant) (*rendered, error) {
	rk := renderKey(doc.key, doc.id, e.gen, e.epoch, v)
	if r, ok := s.renders.get(rk); ok && r.valid(s.now()) {
		return r, nil
	}
	out, err, _ := s.flight.Do("render|"+rk, func() (any, error) {
		r, err := s.renderNow(doc, e, v)
		if err != nil {
			return nil, err
		}
		s.renders.add(rk, r, int64(len(r.body)+len(r.gz)+len(r.notice)+256))
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return out.(*rendered), nil
}

func (s *Server) renderNow(doc *docResult, e *evaluation, v variant) (*rendered, error) {
	held := e.held()
	r := &rendered{validUntil: e.ValidUntil, notice: heldNotice(e.name, held)}
	if len(e.dists) > 0 && len(e.Removed) >= len(e.dists) {
		r.forbidden = fmt.Sprintf("vigil blocked every version of %s: %s", e.name, blockedSummary(held))
		return r, nil
	}
	plan := &renderPlan{
		removed:  e.Removed,
		distTags: e.DistTags,
		tarballURL: func(version string) string {
			return s.publicURL + tarballPath(e.name, version)
		},
	}
	var buf bytes.Buffer
	var err error
	if v == variantAbbreviated {
		r.contentType = registry.MediaTypeAbbreviated
		err = renderAbbreviated(doc.body, plan, &buf)
	} else {
		r.contentType = registry.MediaTypeJSON
		err = renderFull(doc.body, plan, &buf)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	r.body = buf.Bytes()
	sum := sha256.Sum256(r.body)
	r.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	var gz bytes.Buffer
	gz.Grow(len(r.body) / 6)
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(r.body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	r.gz = gz.Bytes()
	return r, nil
}

// blockedSummary names the first held versions and why.
func blockedSummary(held []policy.Decision) string {
	var b bytes.Buffer
	for i, d := range held {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(held)-3)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", d.Version, summary(d))
	}
	return b.String()
}
