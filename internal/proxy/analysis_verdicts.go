package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/internal/analyze"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/registry"
	"github.com/vigil-sec/vigil/internal/verdictcache"
)

// How analysis verdicts reach the policy: a version's verdict is keyed by
// what was analysed — its tarball's dist.integrity — in the verdict cache
// that 'vigil analyze' writes for projects (internal/verdictcache), so a
// verdict computed by either is used by both. The policy engine asks for
// verdicts by name and version; VerdictDecider answers from the packument
// it is evaluating, which names each version's integrity. A memory LRU in
// front of the folder keeps hits (and, for a while, misses) off the disk:
// evaluating a document with thousands of versions must not open thousands
// of files each time it changes upstream.

// Defaults of the verdict store.
const (
	// DefaultVerdictMemoryBytes bounds the verdicts (and misses) kept in
	// memory: ~200 bytes each, so about 150,000 versions.
	DefaultVerdictMemoryBytes = 32 << 20
	// DefaultVerdictMissTTL is how long a version found without a verdict
	// is not looked up on disk again when a document is evaluated. A
	// verdict written meanwhile by 'vigil analyze' is still found by a
	// tarball request, which always looks on disk (Server.withVerdict).
	DefaultVerdictMissTTL = 5 * time.Minute
	// trimEvery is how many verdicts the proxy writes between two trims of
	// the shared folder (analyze trims after every run).
	trimEvery = 512
)

// Verdicts is the proxy's verdict store: the shared on-disk verdict cache
// with a memory LRU in front. It is safe for concurrent use.
type Verdicts struct {
	disk    *verdictcache.Cache // nil: memory only
	log     *slog.Logger
	mem     *lru[verdictEntry]
	missTTL time.Duration
	now     func() time.Time

	writes   atomic.Int64
	trimming atomic.Bool
}

// verdictEntry is a verdict, or a remembered miss (ok false) that expires.
type verdictEntry struct {
	v       policy.Verdict
	ok      bool
	expires time.Time // misses only
}

// NewVerdicts returns a store over disk (the folder 'vigil analyze'
// uses; nil keeps verdicts in memory only, for this process).
func NewVerdicts(disk *verdictcache.Cache, logger *slog.Logger) *Verdicts {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Verdicts{disk: disk, log: logger, mem: newLRU[verdictEntry](DefaultVerdictMemoryBytes), missTTL: DefaultVerdictMissTTL, now: time.Now}
}

// Lookup returns the verdict stored for a tarball integrity (as
// strongestIntegrity writes it). A miss is remembered for a while, so that
// re-evaluating a document does not read the disk for each version again.
func (vs *Verdicts) Lookup(ctx context.Context, integrity string) (policy.Verdict, bool) {
	if integrity == "" {
		return policy.Verdict{}, false
	}
	if e, ok := vs.mem.get(integrity); ok && (e.ok || vs.now().Before(e.expires)) {
		return e.v, e.ok
	}
	return vs.lookupDisk(ctx, integrity)
}

// LookupFresh is Lookup without the remembered misses: the disk is read
// unless the verdict is in memory.
func (vs *Verdicts) LookupFresh(ctx context.Context, integrity string) (policy.Verdict, bool) {
	if integrity == "" {
		return policy.Verdict{}, false
	}
	if e, ok := vs.mem.get(integrity); ok && e.ok {
		return e.v, true
	}
	return vs.lookupDisk(ctx, integrity)
}

func (vs *Verdicts) lookupDisk(ctx context.Context, integrity string) (policy.Verdict, bool) {
	// sha1 integrities are not keys on disk: 'vigil analyze' keys such
	// tarballs by the SHA-512 of their bytes (a sha1 can be collided), and
	// so does the proxy when it analyses one (diskKey).
	if vs.disk == nil || strings.HasPrefix(integrity, "sha1-") {
		vs.remember(integrity, verdictEntry{expires: vs.now().Add(vs.missTTL)})
		return policy.Verdict{}, false
	}
	e, ok := vs.disk.Get(ctx, integrity)
	if !ok {
		vs.remember(integrity, verdictEntry{expires: vs.now().Add(vs.missTTL)})
		return policy.Verdict{}, false
	}
	v := VerdictOf(e.Report)
	vs.remember(integrity, verdictEntry{v: v, ok: true})
	return v, true
}

// cachedOnDisk returns the verdict the shared folder holds under key (a
// strong integrity, or the SHA-512 of a sha1-only tarball's bytes).
func (vs *Verdicts) cachedOnDisk(ctx context.Context, key string) (policy.Verdict, bool) {
	if vs.disk == nil {
		return policy.Verdict{}, false
	}
	e, ok := vs.disk.Get(ctx, key)
	if !ok {
		return policy.Verdict{}, false
	}
	return VerdictOf(e.Report), true
}

// put keeps a new verdict under the tarball's integrity (memory) and
// diskKey (the shared folder, for 'vigil analyze' and later runs). A
// failed write costs a re-analysis after a restart, not correctness: it is
// logged.
func (vs *Verdicts) put(ctx context.Context, integrity, diskKey string, e *verdictcache.Entry) policy.Verdict {
	v := VerdictOf(e.Report)
	vs.remember(integrity, verdictEntry{v: v, ok: true})
	if vs.disk == nil || diskKey == "" {
		return v
	}
	if err := vs.disk.Put(ctx, diskKey, e); err != nil {
		vs.log.Warn("cannot write the verdict cache", "package", e.Report.Package, "version", e.Report.Version, "err", err)
		return v
	}
	if vs.writes.Add(1)%trimEvery == 0 && vs.trimming.CompareAndSwap(false, true) {
		go func() {
			defer vs.trimming.Store(false)
			// Detached: the request that wrote the entry is over by now.
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, err := vs.disk.Trim(tctx); err != nil {
				vs.log.Warn("trimming the verdict cache", "err", err)
			}
		}()
	}
	return v
}

// remembered records an in-memory verdict for integrity (the proxy's own
// key for a sha1-only tarball whose verdict was found on disk under the
// SHA-512 of its bytes).
func (vs *Verdicts) remembered(integrity string, v policy.Verdict) {
	vs.remember(integrity, verdictEntry{v: v, ok: true})
}

func (vs *Verdicts) remember(key string, e verdictEntry) {
	vs.mem.add(key, e, int64(len(key)+len(e.v.Summary)+96))
}

// VerdictOf is what the policy needs of an analysis report: the verdict,
// the score and the rules that fired, strongest first ("VGL-A002
// install-script-download, VGL-A050 env-serialisation, VGL-A001
// install-script"), at most four named.
func VerdictOf(r *analyze.Report) policy.Verdict {
	v := policy.Verdict{Level: policy.VerdictLevel(r.Verdict), Score: r.Score}
	var names []string
	seen := map[string]bool{}
	more := 0
	for _, f := range r.Findings { // sorted by severity, strongest first
		if seen[f.Rule] {
			continue
		}
		seen[f.Rule] = true
		if len(names) == 4 {
			more++
			continue
		}
		names = append(names, strings.TrimSpace(f.Rule+" "+f.Name))
	}
	v.Summary = strings.Join(names, ", ")
	if more > 0 {
		v.Summary += fmt.Sprintf(" and %d more rule(s)", more)
	}
	return v
}

// VerdictDecider is the policy engine with analysis verdicts: each
// version's verdict is looked up by the dist.integrity the packument being
// evaluated gives it.
//
// policy.VerdictSource asks by name and version only, and the engine is
// built once (building one per document would recompile the quarantine:
// ~7 µs per range entry). So the decider binds the packument to its name
// while the engine evaluates it, and evaluations of one name take turns:
// the engine's verdict lookups for that name read that packument. Equal
// documents are evaluated once anyway (the server coalesces them).
type VerdictDecider struct {
	engine         *policy.Engine
	verdicts       *Verdicts
	onFirstRequest bool
	preAnalyseTags bool

	mu    sync.Mutex
	bound map[string]*binding
}

// binding is a name's packument while the engine evaluates it, and the
// verdicts the engine was given.
type binding struct {
	turn sync.Mutex // one evaluation of the name at a time
	refs int        // guarded by VerdictDecider.mu

	mu   sync.Mutex
	pk   *registry.Packument
	seen map[string]policy.Verdict
}

// NewVerdictDecider builds the policy engine from cfg and in (in.Verdicts
// is replaced) with verdicts from vs. cfg.Analysis.OnFirstRequest says
// whether the proxy analyses a version without a verdict before serving
// its tarball; cfg.Analysis.PreAnalyseTags (with it) whether the versions
// dist-tags point to are analysed as soon as their packument is evaluated.
func NewVerdictDecider(cfg config.Policy, in policy.Inputs, vs *Verdicts) (*VerdictDecider, error) {
	if vs == nil {
		return nil, fmt.Errorf("proxy: no verdict store")
	}
	d := &VerdictDecider{
		verdicts:       vs,
		onFirstRequest: cfg.Analysis.OnFirstRequest,
		preAnalyseTags: cfg.Analysis.OnFirstRequest && cfg.Analysis.PreAnalyseTags,
		bound:          map[string]*binding{},
	}
	in.Verdicts = (*boundVerdicts)(d)
	eng, err := policy.New(cfg, in)
	if err != nil {
		return nil, err
	}
	d.engine = eng
	return d, nil
}

// Engine is the policy engine the decider applies. Its own Decide and
// Filter see no verdicts: only Evaluate binds a packument to its name.
func (d *VerdictDecider) Engine() *policy.Engine { return d.engine }

// Evaluate implements Decider. Every version that has a verdict carries
// an analysis reason in its decision — an "allow" one when the verdict
// does not change the action (clean, or an action set to allow) — so the
// tarball route can tell a decision made with the verdict from one made
// before it existed, and GET /explain shows it.
func (d *VerdictDecider) Evaluate(pk *registry.Packument) Evaluation {
	b := d.acquire(pk.Name)
	b.turn.Lock()
	b.mu.Lock()
	b.pk, b.seen = pk, map[string]policy.Verdict{}
	b.mu.Unlock()
	ev := EngineDecider{Engine: d.engine}.Evaluate(pk)
	b.mu.Lock()
	seen := b.seen
	b.pk, b.seen = nil, nil
	b.mu.Unlock()
	b.turn.Unlock()
	d.release(pk.Name, b)

	for version, v := range seen {
		dec, ok := ev.Decisions[version]
		if !ok || hasVerdict(dec) {
			continue
		}
		dec.Reasons = append(dec.Reasons, policy.Reason{Rule: policy.RuleAnalysis, Action: policy.Allow, Message: verdictMessage(v)})
		ev.Decisions[version] = dec
	}
	return ev
}

func (d *VerdictDecider) acquire(name string) *binding {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.bound[name]
	if b == nil {
		b = &binding{}
		d.bound[name] = b
	}
	b.refs++
	return b
}

func (d *VerdictDecider) release(name string, b *binding) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b.refs--; b.refs == 0 {
		delete(d.bound, name)
	}
}

// boundVerdicts is the decider seen as the engine's VerdictSource.
type boundVerdicts VerdictDecider

// Verdict implements policy.VerdictSource for the packument being
// evaluated under name. policy.VerdictSource has no context; the lookup
// is a memory hit or one small local file.
func (bv *boundVerdicts) Verdict(name, version string) (policy.Verdict, bool) {
	d := (*VerdictDecider)(bv)
	d.mu.Lock()
	b := d.bound[name]
	d.mu.Unlock()
	if b == nil {
		return policy.Verdict{}, false
	}
	b.mu.Lock()
	pk := b.pk
	b.mu.Unlock()
	if pk == nil {
		return policy.Verdict{}, false
	}
	m := pk.Versions[version]
	if m == nil {
		return policy.Verdict{}, false
	}
	v, ok := d.verdicts.Lookup(context.Background(), strongestIntegrity(m.Dist.Integrity, m.Dist.Shasum))
	if ok {
		b.mu.Lock()
		if b.seen != nil {
			b.seen[version] = v
		}
		b.mu.Unlock()
	}
	return v, ok
}

// hasVerdict reports whether a decision was made with an analysis
// verdict.
func hasVerdict(d policy.Decision) bool {
	for _, r := range d.Reasons {
		if r.Rule == policy.RuleAnalysis {
			return true
		}
	}
	return false
}

// verdictMessage matches the engine's wording for a verdict that does not
// change the action.
func verdictMessage(v policy.Verdict) string {
	msg := fmt.Sprintf("vigil analyze found it %s (score %d)", v.Level, v.Score)
	if v.Summary != "" && v.Level != policy.VerdictClean {
		msg += ": " + v.Summary
	}
	return msg
}

// verdictDecider is implemented by deciders that read a verdict store:
// the tarball route analyses only for them.
type verdictDecider interface {
	verdictStore() *Verdicts
	analysesOnFirstRequest() bool
	preAnalysesTags() bool
}

func (d *VerdictDecider) verdictStore() *Verdicts      { return d.verdicts }
func (d *VerdictDecider) analysesOnFirstRequest() bool { return d.onFirstRequest }
func (d *VerdictDecider) preAnalysesTags() bool        { return d.preAnalyseTags }
