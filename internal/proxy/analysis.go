package proxy

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/analyze/rules"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
	"github.com/vigil-sec/vigil/internal/tarball"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

// Analysis on first request (policy.analysis.on_first_request): a tarball
// of a version without a verdict is analysed — from the verified bytes the
// cache already holds — before it is served; the verdict is stored
// (memory and the shared verdict cache), the package's cached evaluations
// and filtered documents are dropped so metadata and tarball decisions
// agree, and the version is decided again with its verdict. See
// docs/proxy.md ("Analysis verdicts").

// Defaults for AnalysisOptions fields left zero.
const (
	DefaultAnalysisTimeout = 20 * time.Second
	DefaultAnalysisRetry   = 5 * time.Minute
	DefaultTagWait         = 2 * time.Second
	DefaultTagWaitMaxAge   = 72 * time.Hour
)

// What started an analysis: the metrics' trigger label.
const (
	triggerFirstRequest = "first_request" // a tarball request
	triggerPreAnalysis  = "pre_analysis"  // a dist-tag target (pre_analyse_tags)
)

// AnalysisOptions bound the analyses the proxy runs on first request.
// Whether it analyses at all is the policy's setting
// (policy.analysis.on_first_request, read by VerdictDecider), so a reload
// can turn it on or off.
type AnalysisOptions struct {
	// Timeout bounds one analysis, waiting for a worker included; the
	// download before it has its own (TarballTimeout).
	Timeout time.Duration
	// Workers is how many analyses run at once; 0 means GOMAXPROCS. Each
	// holds the unpacked package in memory (at most Limits.MaxUncompressed).
	Workers int
	// Limits bound reading the tarball; zero fields take
	// tarball.DefaultLimits (the limits 'vigil analyze' uses, and part of
	// the verdict cache's engine fingerprint).
	Limits tarball.Limits
	// Retry is how long a failed analysis is remembered: requests for the
	// version meanwhile get the same answer at once instead of another
	// analysis.
	Retry time.Duration
	// TagWait bounds how long a packument response is held while a young
	// dist-tag target is pre-analysed (policy.analysis.pre_analyse_tags),
	// so the first install already resolves around a malicious `latest`;
	// 0 means DefaultTagWait, a negative value never holds a response.
	TagWait time.Duration
	// TagWaitMaxAge is how young (since its publish time) a tag target
	// must be for the response to wait for its analysis; 0 means
	// DefaultTagWaitMaxAge. Older versions are analysed in the background
	// only: a long-published `latest` is not what a worm just pushed.
	TagWaitMaxAge time.Duration
}

// analyser runs first-request analyses: bounded in number, coalesced per
// tarball, failures remembered for a while.
type analyser struct {
	timeout time.Duration
	retry   time.Duration
	limits  tarball.Limits
	slots   chan struct{}

	tagWait       time.Duration // <= 0: packument responses never wait
	tagWaitMaxAge time.Duration

	mu       sync.Mutex
	failures map[string]analysisFailure // by integrity
	// pending are the pre-analyses under way, by integrity; each channel
	// is closed when its analysis and re-decision are over.
	pending map[string]chan struct{}

	runs        atomic.Int64 // analyses run (not answered from a cache)
	preAnalyses atomic.Int64 // pre-analyses started (tests read it)
}

type analysisFailure struct {
	err   error
	until time.Time
}

// maxFailures bounds the remembered failures.
const maxFailures = 10_000

func newAnalyser(o AnalysisOptions) *analyser {
	a := &analyser{
		timeout:  orDefault(o.Timeout, DefaultAnalysisTimeout),
		retry:    orDefault(o.Retry, DefaultAnalysisRetry),
		limits:   o.Limits,
		failures: map[string]analysisFailure{},
		pending:  map[string]chan struct{}{},

		tagWait:       orDefault(o.TagWait, DefaultTagWait),
		tagWaitMaxAge: orDefault(o.TagWaitMaxAge, DefaultTagWaitMaxAge),
	}
	if (a.limits == tarball.Limits{}) {
		a.limits = tarball.DefaultLimits()
	}
	n := o.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	a.slots = make(chan struct{}, n)
	return a
}

func (a *analyser) failed(integrity string, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.failures[integrity]
	if !ok {
		return nil
	}
	if !now.Before(f.until) {
		delete(a.failures, integrity)
		return nil
	}
	return f.err
}

func (a *analyser) fail(integrity string, err error, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.failures) >= maxFailures {
		for k, f := range a.failures {
			if !now.Before(f.until) || len(a.failures) >= maxFailures {
				delete(a.failures, k)
			}
		}
	}
	a.failures[integrity] = analysisFailure{err: err, until: now.Add(a.retry)}
}

// analysisError marks an analysis that could not finish (timeout, a tarball
// the reader refuses); a download failure is not one.
type analysisError struct{ err error }

func (e *analysisError) Error() string { return e.err.Error() }
func (e *analysisError) Unwrap() error { return e.err }

// withVerdict makes sure a tarball request is decided with the version's
// analysis verdict when there is one, or can be one: it returns the
// evaluation to decide with, or handled when it answered the request
// itself (an analysis that failed, failing closed).
//
//   - The decision already carries the verdict, or blocks the version
//     anyway: nothing to do.
//   - A verdict exists (the proxy's, or one 'vigil analyze' wrote after the
//     document was evaluated): the version is decided again with it.
//   - None, and policy.analysis.on_first_request: the verified tarball is
//     analysed first (coalesced, bounded), then decided again.
//   - None, and no analysis on first request: served as decided.
//
// refused sends a client-visible refusal (refuse) after recording it.
func (s *Server) withVerdict(w *statusRecorder, r *http.Request, rec *store.Download, up *upstream, name, version, auth string, e *evaluation, refused func(status int, msg string)) (*evaluation, bool) {
	vd, ok := s.policy.Load().decider.(verdictDecider)
	if !ok {
		return e, false
	}
	d := e.Decisions[version]
	dist := e.dists[version]
	if hasVerdict(d) || (d.Action == policy.Block && !d.DryRun) || dist.integrity == "" {
		return e, false
	}
	ctx := r.Context()
	if _, known := vd.verdictStore().LookupFresh(ctx, dist.integrity); !known {
		if !vd.analysesOnFirstRequest() {
			return e, false
		}
		_, err := s.analyseOnce(ctx, vd.verdictStore(), up, name, version, dist, auth, triggerFirstRequest)
		var aerr *analysisError
		switch {
		case errors.As(err, &aerr):
			return e, s.unanalysed(w, rec, name, version, aerr, refused)
		case err != nil:
			// The download failed: the tarball route fetches again and
			// answers the failure as it does without analysis.
			s.log.Warn("no analysis: the tarball could not be fetched", "package", name, "version", version, "err", err)
			return e, false
		}
	}
	e2, err := s.redecide(ctx, up, name, version, auth)
	if err != nil {
		// The document was just read; failing now is an outage. Deciding
		// with the evaluation in hand would ignore a verdict that may
		// block, so fail closed.
		rec.Reason = err.Error()
		s.writeUpstreamFailure(w, name, up, err)
		return e, true
	}
	return e2, false
}

// unanalysed answers a version whose analysis failed: with fail_open it is
// served with a warning (reported true only when the answer was sent),
// else refused with 503 and Retry-After, the remembered failure's time, in
// the form the client prints (refused: refuse, recorded first), so pnpm,
// yarn 4 and bun show why and not only "503".
func (s *Server) unanalysed(w *statusRecorder, rec *store.Download, name, version string, aerr *analysisError, refused func(status int, msg string)) bool {
	if s.failOpen {
		msg := headerSafe("vigil could not analyse "+name+"@"+version+" ("+aerr.Error()+"); served unanalysed (fail_open)", 1024)
		s.log.Warn("fail-open: serving a tarball that could not be analysed", "package", name, "version", version, "err", aerr.err)
		w.Header().Set("X-Vigil-Warning", msg)
		w.Header().Set("npm-notice", msg)
		return false
	}
	rec.Action = policy.Block
	rec.Reason = "not analysed: " + aerr.Error()
	s.log.Warn("refused a tarball that could not be analysed (failing closed)", "package", name, "version", version, "err", aerr.err)
	w.Header().Set("Retry-After", strconv.Itoa(int(s.analysis.retry.Seconds())))
	refused(http.StatusServiceUnavailable, "vigil: could not analyse "+name+"@"+version+" before serving it ("+aerr.Error()+"); refused, failing closed")
	return true
}

// analyseOnce returns the verdict of a version's tarball, analysing it
// when no cache has one. Concurrent requests for the same tarball share
// one analysis, which runs on its own deadline: one client hanging up does
// not fail the others. trigger names what asked first, for the metrics.
func (s *Server) analyseOnce(ctx context.Context, vs *Verdicts, up *upstream, name, version string, dist distInfo, auth, trigger string) (policy.Verdict, error) {
	if err := s.analysis.failed(dist.integrity, s.now()); err != nil {
		return policy.Verdict{}, err
	}
	out, err, _ := s.flight.Do("analysis|"+dist.integrity, func() (any, error) {
		v, err := s.analyse(context.WithoutCancel(ctx), vs, up, name, version, dist, auth, trigger)
		var aerr *analysisError
		if errors.As(err, &aerr) {
			s.metrics.analysisFailures.inc(trigger)
			s.analysis.fail(dist.integrity, err, s.now())
		}
		return v, err
	})
	if err != nil {
		return policy.Verdict{}, err
	}
	return out.(policy.Verdict), nil
}

// analyse fetches (or opens) the verified tarball and analyses it.
func (s *Server) analyse(ctx context.Context, vs *Verdicts, up *upstream, name, version string, dist distInfo, auth, trigger string) (policy.Verdict, error) {
	what := name + "@" + version
	f, _, err := s.tarball(ctx, up, what, dist, auth)
	if err != nil {
		return policy.Verdict{}, err
	}
	defer f.Close()

	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.analysis.timeout)
	defer cancel()
	select {
	case s.analysis.slots <- struct{}{}:
		defer func() { <-s.analysis.slots }()
	case <-actx.Done():
		return policy.Verdict{}, &analysisError{fmt.Errorf("no analysis worker free within %s", s.analysis.timeout)}
	}
	start := time.Now()

	// A strong integrity is the verdict cache's key, as for 'vigil
	// analyze'; a sha1-only tarball is keyed by the SHA-512 of its bytes.
	diskKey := dist.integrity
	if strings.HasPrefix(dist.integrity, "sha1-") {
		h := sha512.New()
		if _, err := io.Copy(h, f); err != nil {
			return policy.Verdict{}, &analysisError{fmt.Errorf("reading the cached tarball: %w", err)}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return policy.Verdict{}, &analysisError{fmt.Errorf("reading the cached tarball: %w", err)}
		}
		diskKey = "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
		if v, ok := vs.cachedOnDisk(actx, diskKey); ok {
			vs.remembered(dist.integrity, v)
			return v, nil
		}
	}

	arc, err := tarball.Read(actx, f, s.analysis.limits)
	if err != nil {
		return policy.Verdict{}, &analysisError{analysisCause(actx, "reading the tarball", err, s.analysis.timeout)}
	}
	pkg := analyze.FromArchive(arc, name, version, dist.integrity)
	pkg.RegistryManifest = s.registryManifest(ctx, up, name, version, auth)
	rep, err := analyze.Analyze(actx, pkg, analyze.Options{})
	if err != nil {
		return policy.Verdict{}, &analysisError{analysisCause(actx, "analysing", err, s.analysis.timeout)}
	}
	s.analysis.runs.Add(1)
	warnings, notLoaded := archiveNotes(arc)
	v := vs.put(actx, dist.integrity, diskKey, &verdictcache.Entry{Report: rep, Warnings: warnings, NotLoaded: notLoaded})
	s.metrics.analyses.inc(trigger, string(v.Level))
	s.log.Info("analysed", "trigger", trigger, "package", name, "version", version, "verdict", v.Level, "score", v.Score,
		"rules", v.Summary, "files", rep.Stats.Files, "bytes", rep.Stats.Bytes, "took", time.Since(start).Round(time.Millisecond))
	return v, nil
}

// analysisCause names a timeout as one.
func analysisCause(ctx context.Context, doing string, err error, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s took longer than %s", doing, timeout)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// archiveNotes are what 'vigil analyze' keeps of the reader's notes with a
// verdict (sanitised: they quote the archive).
func archiveNotes(arc *tarball.Archive) (warnings, notLoaded []string) {
	for _, w := range arc.Warnings {
		warnings = append(warnings, rules.Sanitize(w.String(), 300))
	}
	if arc.WarningsDropped > 0 {
		warnings = append(warnings, fmt.Sprintf("… and %d more warnings", arc.WarningsDropped))
	}
	for _, sk := range arc.Skipped {
		if sk.Reason == tarball.ReasonTooLarge {
			notLoaded = append(notLoaded, rules.Sanitize(sk.Name, 200))
		}
	}
	return warnings, notLoaded
}

// registryManifest is the version's object in the packument, for the
// manifest-confusion rules; nil when the document cannot be read now (the
// analysis goes on without it).
func (s *Server) registryManifest(ctx context.Context, up *upstream, name, version, auth string) []byte {
	doc, err := s.document(ctx, up, name, auth)
	if err != nil {
		s.log.Debug("analysis without the registry manifest", "package", name, "version", version, "err", err)
		return nil
	}
	vm, ok, err := findMember(doc.body, 0, "versions")
	if err != nil || !ok || doc.body[vm.valueStart] != '{' {
		return nil
	}
	m, ok, err := findMember(doc.body, vm.valueStart, version)
	if err != nil || !ok || doc.body[m.valueStart] != '{' {
		return nil
	}
	return doc.body[m.valueStart:m.valueEnd]
}

// redecide drops the package's cached evaluations and filtered documents
// (they were made without the version's verdict) and evaluates the
// document again. An evaluation already under way when the verdict
// arrived may be shared with this call and lack it: then the document is
// evaluated once more, here, and replaces it.
func (s *Server) redecide(ctx context.Context, up *upstream, name, version, auth string) (*evaluation, error) {
	s.forgetPackage(up, name)
	doc, err := s.document(ctx, up, name, auth)
	if err != nil {
		return nil, err
	}
	e, err := s.evaluate(doc)
	if err != nil {
		return nil, err
	}
	if !hasVerdict(e.Decisions[version]) {
		st := s.policy.Load()
		pk, err := doc.packument()
		if err != nil {
			return nil, err
		}
		epoch := s.epochs.of(name)
		e = newEvaluation(pk, st.decider.Evaluate(pk), doc.id, st.gen, epoch)
		s.evals.add(evalKey(doc.key, doc.id, st.gen, epoch), e, e.size)
		s.held.update(e, s.now())
	}
	// Documents rendered meanwhile from the older evaluation go too.
	s.renders.removeIf(packageKeys(up, name))
	return e, nil
}

// forgetPackage drops every cached evaluation and filtered document of
// name (all credentials' copies): the next request recomputes them.
func (s *Server) forgetPackage(up *upstream, name string) {
	// The epoch moves first: an evaluation still under way stores its
	// result under the old epoch, which nothing reads any more.
	s.epochs.bump(name)
	match := packageKeys(up, name)
	s.evals.removeIf(match)
	s.renders.removeIf(match)
}

// packageKeys matches the evaluation and render keys of name's documents:
// docKey(up, name, any credentials) + "|…".
func packageKeys(up *upstream, name string) func(string) bool {
	prefix := docKey(up, name, "")
	return func(k string) bool {
		rest, ok := strings.CutPrefix(k, prefix)
		return ok && strings.HasPrefix(rest, "|")
	}
}

// removeIf drops the entries whose key matches. It walks every entry: it
// runs when a new verdict arrives, not per request.
func (c *lru[V]) removeIf(match func(key string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, el := range c.items {
		if !match(k) {
			continue
		}
		c.bytes -= el.Value.(*lruItem[V]).size
		c.order.Remove(el)
		delete(c.items, k)
		n++
	}
	return n
}

// Pre-analysis of dist-tag targets (policy.analysis.pre_analyse_tags).
// Analysis on first request alone cannot save the first install of a
// freshly published malicious `latest`: the packument still lists it, the
// client resolves ^x.y.z to it, and its tarball is refused (403) instead
// of the client falling back to the version before. So when a packument is
// evaluated, the versions its served dist-tags point to and that have no
// verdict are analysed in the background, through the same verified
// download, worker pool and singleflight as a tarball request. When a
// verdict lands the package is decided again (redecide): the next document
// served reflects it — a malicious tag target is removed and its tag moves
// back, and the version it moves to is pre-analysed in turn. A young tag
// target (TagWaitMaxAge) may hold the response for a bounded while
// (TagWait) so that even the first install sees the verdict.

// maxPreAnalysesPerWorker bounds the pre-analyses under way (each holds a
// download before it waits for a worker): a cold proxy answering a large
// install would otherwise start one per package at once. Past the bound a
// tag target is left to analysis on first request.
const maxPreAnalysesPerWorker = 8

// withTagVerdicts starts the pre-analyses of e's tag targets and, when
// one of them is young, holds the packument response until they have
// landed, at most TagWait. It returns the evaluation to serve: e, or the
// package's evaluation decided again with the verdicts that landed.
func (s *Server) withTagVerdicts(ctx context.Context, up *upstream, doc *docResult, e *evaluation, auth string) *evaluation {
	pending := s.preAnalyseTags(ctx, up, e, auth)
	if len(pending) == 0 || s.analysis.tagWait <= 0 {
		return e
	}
	young := s.youngTargets(doc, pending)
	if len(young) == 0 {
		return e
	}
	start := time.Now()
	deadline := time.NewTimer(s.analysis.tagWait)
	defer deadline.Stop()
	waited := map[string]bool{} // a version is waited for once per request
	outcome := "done"
	for len(young) > 0 {
		if outcome = awaitAll(ctx, deadline.C, young); outcome != "done" {
			break
		}
		for v := range young {
			waited[v] = true
		}
		// A verdict moves a malicious tag back to an older version, which
		// may need its own analysis: decide again and keep waiting for
		// what is left of the bound.
		e2, err := s.evaluate(doc)
		if err != nil {
			s.log.Warn("deciding again after a pre-analysis", "package", e.name, "err", err)
			break
		}
		e = e2
		young = s.youngTargets(doc, s.preAnalyseTags(ctx, up, e, auth))
		for v := range young {
			if waited[v] {
				delete(young, v)
			}
		}
	}
	took := time.Since(start)
	s.metrics.tagWait.observe(took.Seconds(), outcome)
	s.log.Debug("held a packument for the analysis of its dist-tag targets", "package", e.name, "outcome", outcome, "took", took.Round(time.Millisecond))
	return e
}

// awaitAll waits until every channel in pending is closed ("done"), the
// deadline fires ("timeout") or ctx ends ("canceled").
func awaitAll(ctx context.Context, deadline <-chan time.Time, pending map[string]<-chan struct{}) string {
	for _, done := range pending {
		select {
		case <-done:
		case <-deadline:
			return "timeout"
		case <-ctx.Done():
			return "canceled"
		}
	}
	return "done"
}

// preAnalyseTags starts a background analysis of each version e's served
// dist-tags point to that has none yet, and returns the pre-analyses under
// way for them (started now or before), by version. It starts nothing
// unless the policy has pre_analyse_tags and on_first_request.
func (s *Server) preAnalyseTags(ctx context.Context, up *upstream, e *evaluation, auth string) map[string]<-chan struct{} {
	vd, ok := s.policy.Load().decider.(verdictDecider)
	if !ok || !vd.preAnalysesTags() {
		return nil
	}
	var pending map[string]<-chan struct{}
	for _, version := range e.DistTags {
		if _, dup := pending[version]; dup {
			continue
		}
		d := e.Decisions[version]
		dist := e.dists[version]
		if e.Removed[version] || hasVerdict(d) || (d.Action == policy.Block && !d.DryRun) || dist.integrity == "" {
			continue
		}
		if s.analysis.failed(dist.integrity, s.now()) != nil {
			continue // the tarball request answers the remembered failure
		}
		done, ok := s.startPreAnalysis(ctx, vd.verdictStore(), up, e.name, version, dist, auth)
		if !ok {
			continue
		}
		if pending == nil {
			pending = map[string]<-chan struct{}{}
		}
		pending[version] = done
	}
	return pending
}

// startPreAnalysis analyses one tag target in the background, unless it is
// already under way (its channel is returned) or too many are (false). The
// work is detached from the request that started it: the response does not
// wait for it unless withTagVerdicts chooses to.
func (s *Server) startPreAnalysis(ctx context.Context, vs *Verdicts, up *upstream, name, version string, dist distInfo, auth string) (<-chan struct{}, bool) {
	a := s.analysis
	a.mu.Lock()
	if done, ok := a.pending[dist.integrity]; ok {
		a.mu.Unlock()
		return done, true
	}
	if len(a.pending) >= maxPreAnalysesPerWorker*cap(a.slots) {
		a.mu.Unlock()
		s.log.Debug("too many pre-analyses under way; left to analysis on first request", "package", name, "version", version)
		return nil, false
	}
	done := make(chan struct{})
	a.pending[dist.integrity] = done
	a.mu.Unlock()
	a.preAnalyses.Add(1)

	bg := context.WithoutCancel(ctx)
	go func() {
		defer func() {
			a.mu.Lock()
			delete(a.pending, dist.integrity)
			a.mu.Unlock()
			close(done)
		}()
		// A verdict 'vigil analyze' wrote since the evaluation needs no
		// analysis, only the re-decision.
		if _, known := vs.LookupFresh(bg, dist.integrity); !known {
			if _, err := s.analyseOnce(bg, vs, up, name, version, dist, auth, triggerPreAnalysis); err != nil {
				s.log.Warn("pre-analysis of a dist-tag target failed; a request for its tarball analyses it again", "package", name, "version", version, "err", err)
				return
			}
		}
		if _, err := s.redecide(bg, up, name, version, auth); err != nil {
			// The verdict is stored: dropping the evaluations is enough
			// for the next request to decide with it.
			s.log.Warn("deciding again after a pre-analysis", "package", name, "version", version, "err", err)
			s.forgetPackage(up, name)
		}
	}()
	return done, true
}

// youngTargets keeps the pending versions published less than
// TagWaitMaxAge ago; a version whose publish time the document does not
// give (or gives unreadably) counts as young.
func (s *Server) youngTargets(doc *docResult, pending map[string]<-chan struct{}) map[string]<-chan struct{} {
	if len(pending) == 0 {
		return nil
	}
	young := map[string]<-chan struct{}{}
	now := s.now()
	for version, done := range pending {
		if t, ok := publishTime(doc.body, version); ok && now.Sub(t) >= s.analysis.tagWaitMaxAge {
			continue
		}
		young[version] = done
	}
	return young
}

// publishTime reads time[version] from a packument's bytes.
func publishTime(body []byte, version string) (time.Time, bool) {
	tm, ok, err := findMember(body, 0, "time")
	if err != nil || !ok || body[tm.valueStart] != '{' {
		return time.Time{}, false
	}
	m, ok, err := findMember(body, tm.valueStart, version)
	if err != nil || !ok {
		return time.Time{}, false
	}
	raw, err := strconv.Unquote(string(body[m.valueStart:m.valueEnd]))
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, raw)
	return t, err == nil
}
