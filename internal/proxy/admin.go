package proxy

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/npm"
	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// QuarantineStore is the part of store.Store the admin API edits.
type QuarantineStore interface {
	AddQuarantine(ctx context.Context, e policy.QuarantineEntry) error
	RemoveQuarantine(ctx context.Context, pkg, versions string) error
	Quarantine(ctx context.Context) ([]policy.QuarantineEntry, error)
}

// AdminOptions configure the admin API.
type AdminOptions struct {
	// Token is the bearer token every request but GET /healthz must
	// carry. Required: the admin API does not run without one.
	Token string
	// Quarantine is where quarantine entries live; nil disables the
	// /quarantine endpoints.
	Quarantine QuarantineStore
	// Reload builds the policy afresh (re-reading vigil.yaml and the
	// quarantine); nil disables POST /reload. It also runs after every
	// quarantine change, so the change applies to the next request.
	Reload func(ctx context.Context) (Decider, error)
}

// ErrNoAdminToken is returned by AdminHandler without a token.
var ErrNoAdminToken = errors.New("the admin API needs a bearer token ($VIGIL_ADMIN_TOKEN)")

// AdminHandler returns the admin API:
//
//	GET    /healthz                     liveness (no token needed)
//	GET    /metrics                     Prometheus metrics
//	GET    /held                        versions currently held back, why, and until when
//	GET    /explain/{name}/{version}    the policy's decision for one version, with reasons
//	POST   /reload                      re-read vigil.yaml and the quarantine
//	GET    /quarantine                  the quarantine list
//	POST   /quarantine                  add an entry (JSON policy.QuarantineEntry)
//	DELETE /quarantine?package=&versions=  remove an entry
func (s *Server) AdminHandler(opts AdminOptions) (http.Handler, error) {
	if opts.Token == "" {
		return nil, ErrNoAdminToken
	}
	a := &admin{s: s, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.Handle("GET /metrics", a.auth(http.HandlerFunc(s.serveMetrics)))
	mux.Handle("GET /held", a.auth(http.HandlerFunc(a.held)))
	mux.Handle("GET /explain/{rest...}", a.auth(http.HandlerFunc(a.explain)))
	mux.Handle("POST /reload", a.auth(http.HandlerFunc(a.reload)))
	mux.Handle("GET /quarantine", a.auth(http.HandlerFunc(a.listQuarantine)))
	mux.Handle("POST /quarantine", a.auth(http.HandlerFunc(a.addQuarantine)))
	mux.Handle("DELETE /quarantine", a.auth(http.HandlerFunc(a.removeQuarantine)))
	return mux, nil
}

type admin struct {
	s    *Server
	opts AdminOptions
}

func (a *admin) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + a.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil-admin"`)
			writeError(w, http.StatusUnauthorized, "vigil admin: a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func (a *admin) held(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Generation uint64        `json:"policy_generation"`
		Packages   []heldPackage `json:"packages"`
	}{a.s.PolicyGeneration(), a.s.held.list(a.s.now())})
}

// explain answers /explain/debug/4.4.2 and /explain/@scope/name/1.0.0.
func (a *admin) explain(w http.ResponseWriter, r *http.Request) {
	rest := r.PathValue("rest")
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		writeError(w, http.StatusBadRequest, "vigil admin: want /explain/{name}/{version}")
		return
	}
	name, version := rest[:i], rest[i+1:]
	if err := npm.ValidateName(name); err != nil {
		writeError(w, http.StatusBadRequest, "vigil admin: "+err.Error())
		return
	}
	d, ok, err := a.s.currentDecision(r.Context(), name, version)
	if err != nil {
		a.s.writeUpstreamFailure(w, name, a.s.ups.forName(name), err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("vigil admin: %s has no listed version %s", name, version))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *admin) reload(w http.ResponseWriter, r *http.Request) {
	if a.opts.Reload == nil {
		writeError(w, http.StatusNotImplemented, "vigil admin: reloading is not configured")
		return
	}
	if err := a.reloadNow(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: reload failed, the previous policy stays in force: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"policy_generation": a.s.PolicyGeneration()})
}

func (a *admin) reloadNow(ctx context.Context) error {
	if a.opts.Reload == nil {
		return nil
	}
	d, err := a.opts.Reload(ctx)
	if err != nil {
		return err
	}
	a.s.SetDecider(d)
	a.s.log.Info("policy reloaded", "generation", a.s.PolicyGeneration())
	return nil
}

func (a *admin) listQuarantine(w http.ResponseWriter, r *http.Request) {
	if a.opts.Quarantine == nil {
		writeError(w, http.StatusNotImplemented, "vigil admin: no quarantine store")
		return
	}
	list, err := a.opts.Quarantine.Quarantine(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: "+err.Error())
		return
	}
	if list == nil {
		list = []policy.QuarantineEntry{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *admin) addQuarantine(w http.ResponseWriter, r *http.Request) {
	if a.opts.Quarantine == nil {
		writeError(w, http.StatusNotImplemented, "vigil admin: no quarantine store")
		return
	}
	var e policy.QuarantineEntry
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		writeError(w, http.StatusBadRequest, "vigil admin: quarantine entry: "+err.Error())
		return
	}
	if err := validateQuarantine(e); err != nil {
		writeError(w, http.StatusBadRequest, "vigil admin: quarantine entry: "+err.Error())
		return
	}
	if e.AddedAt.IsZero() {
		e.AddedAt = a.s.now().UTC()
	}
	if e.AddedBy == "" {
		e.AddedBy = "admin-api"
	}
	if err := a.opts.Quarantine.AddQuarantine(r.Context(), e); err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: "+err.Error())
		return
	}
	if err := a.reloadNow(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: entry stored, but the policy reload failed (the entry applies after the next successful reload): "+err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func validateQuarantine(e policy.QuarantineEntry) error {
	if e.Package == "" {
		return errors.New("package is required")
	}
	if scope, ok := strings.CutSuffix(e.Package, "/*"); ok {
		if err := npm.ValidateName(scope + "/x"); err != nil || !strings.HasPrefix(scope, "@") {
			return fmt.Errorf("package %q: a scope is written @scope/*", e.Package)
		}
	} else if err := npm.ValidateName(e.Package); err != nil {
		return err
	}
	if e.Versions != "" {
		if _, err := npm.ParseRange(e.Versions); err != nil {
			return fmt.Errorf("versions %q: %w", e.Versions, err)
		}
	}
	if strings.TrimSpace(e.Reason) == "" {
		return errors.New("reason is required: say why, for whoever finds the entry later")
	}
	if !e.Expires.IsZero() && e.Expires.Before(time.Now()) {
		return errors.New("expires is in the past")
	}
	return nil
}

func (a *admin) removeQuarantine(w http.ResponseWriter, r *http.Request) {
	if a.opts.Quarantine == nil {
		writeError(w, http.StatusNotImplemented, "vigil admin: no quarantine store")
		return
	}
	pkg := r.URL.Query().Get("package")
	if pkg == "" {
		writeError(w, http.StatusBadRequest, "vigil admin: want ?package=NAME[&versions=RANGE]")
		return
	}
	err := a.opts.Quarantine.RemoveQuarantine(r.Context(), pkg, r.URL.Query().Get("versions"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "vigil admin: no such quarantine entry")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "vigil admin: "+err.Error())
		return
	}
	if err := a.reloadNow(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "vigil admin: entry removed, but the policy reload failed: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
