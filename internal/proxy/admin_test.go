package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/policy"
	"github.com/vigil-sec/vigil/internal/store"
)

// memQuarantine is a QuarantineStore in memory.
type memQuarantine struct {
	mu      sync.Mutex
	entries []policy.QuarantineEntry
}

func (m *memQuarantine) AddQuarantine(_ context.Context, e policy.QuarantineEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = slices.DeleteFunc(m.entries, func(x policy.QuarantineEntry) bool {
		return x.Package == e.Package && x.Versions == e.Versions
	})
	m.entries = append(m.entries, e)
	return nil
}

func (m *memQuarantine) RemoveQuarantine(_ context.Context, pkg, versions string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.entries)
	m.entries = slices.DeleteFunc(m.entries, func(x policy.QuarantineEntry) bool { return x.Package == pkg && x.Versions == versions })
	if len(m.entries) == n {
		return store.ErrNotFound
	}
	return nil
}

func (m *memQuarantine) Quarantine(context.Context) ([]policy.QuarantineEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.entries), nil
}

type adminStack struct {
	*stack
	admin *httptest.Server
	q     *memQuarantine
}

const adminToken = "t0ken"

func startAdmin(t *testing.T, o stackOptions) *adminStack {
	st := startStack(t, o)
	q := &memQuarantine{}
	h, err := st.server.AdminHandler(AdminOptions{
		Token:      adminToken,
		Quarantine: q,
		Reload: func(ctx context.Context) (Decider, error) {
			entries, err := q.Quarantine(ctx)
			if err != nil {
				return nil, err
			}
			d := *st.decider
			d.quarantine = entries
			return &d, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &adminStack{stack: st, admin: srv, q: q}
}

func (a *adminStack) call(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.admin.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminNeedsToken(t *testing.T) {
	st := startStack(t, stackOptions{})
	if _, err := st.server.AdminHandler(AdminOptions{}); !errors.Is(err, ErrNoAdminToken) {
		t.Errorf("no token: %v", err)
	}
	a := startAdmin(t, stackOptions{})
	for _, path := range []string{"/held", "/metrics", "/quarantine", "/explain/debug/4.4.1"} {
		for _, tok := range []string{"", "wrong", adminToken + "x"} {
			if code, _ := a.call(t, "GET", path, tok, ""); code != http.StatusUnauthorized {
				t.Errorf("GET %s with %q: %d", path, tok, code)
			}
		}
	}
	if code, _ := a.call(t, "POST", "/reload", "", ""); code != http.StatusUnauthorized {
		t.Errorf("reload without a token: %d", code)
	}
	if code, _ := a.call(t, "GET", "/healthz", "", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}

func TestAdminHeldAndExplain(t *testing.T) {
	a := startAdmin(t, stackOptions{cooldown: cooldown3d})
	a.get(t, "GET", "/debug")
	code, body := a.call(t, "GET", "/held", adminToken, "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var held struct {
		Packages []heldPackage `json:"packages"`
	}
	if err := json.Unmarshal(body, &held); err != nil {
		t.Fatal(err)
	}
	if len(held.Packages) != 1 || held.Packages[0].Name != "debug" || len(held.Packages[0].Versions) != 2 ||
		held.Packages[0].Versions[0].Version != "4.4.3" || !held.Packages[0].Until.Equal(time.Date(2025, 9, 16, 15, 0, 23, 671e6, time.UTC)) {
		t.Errorf("held: %s", body)
	}

	code, body = a.call(t, "GET", "/explain/debug/4.4.2", adminToken, "")
	var d policy.Decision
	if code != 200 || json.Unmarshal(body, &d) != nil || d.Action != policy.Block || len(d.Reasons) != 1 || d.Reasons[0].ID != "MAL-2025-46974" {
		t.Errorf("explain 4.4.2: %d %s", code, body)
	}
	code, body = a.call(t, "GET", "/explain/@acme/internal/1.0.0", adminToken, "")
	if code != 200 || !strings.Contains(string(body), `"action": "allow"`) {
		t.Errorf("explain scoped: %d %s", code, body)
	}
	if code, _ := a.call(t, "GET", "/explain/debug/7.7.7", adminToken, ""); code != 404 {
		t.Errorf("explain unknown version: %d", code)
	}
	if code, body := a.call(t, "GET", "/metrics", adminToken, ""); code != 200 || !strings.Contains(string(body), `vigil_proxy_policy_decisions_total{action="block",route="packument",rule="advisory"} 1`) {
		t.Errorf("metrics: %d\n%s", code, body)
	}
}

func TestAdminQuarantineAppliesAtOnce(t *testing.T) {
	a := startAdmin(t, stackOptions{})
	if resp, _ := a.get(t, "GET", "/ms/-/ms-2.1.3.tgz"); resp.StatusCode != 200 {
		t.Fatalf("before: %d", resp.StatusCode)
	}
	gen := a.server.PolicyGeneration()
	for _, bad := range []string{`{"package":"ms"}`, `{"package":"Not Valid","reason":"x"}`, `{"package":"ms","versions":">>>","reason":"x"}`, `{"package":"ms","reason":"x","extra":1}`} {
		if code, body := a.call(t, "POST", "/quarantine", adminToken, bad); code != 400 {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	code, body := a.call(t, "POST", "/quarantine", adminToken, `{"package":"ms","versions":"2.1.3","reason":"incident 7"}`)
	if code != 201 {
		t.Fatalf("add: %d %s", code, body)
	}
	if a.server.PolicyGeneration() != gen+1 {
		t.Errorf("generation %d, want %d", a.server.PolicyGeneration(), gen+1)
	}
	resp, body := a.get(t, "GET", "/ms/-/ms-2.1.3.tgz")
	if resp.StatusCode != 403 || !strings.Contains(errorBody(t, body), "quarantined: incident 7") {
		t.Errorf("after quarantine: %d %s", resp.StatusCode, body)
	}
	code, body = a.call(t, "GET", "/quarantine", adminToken, "")
	if code != 200 || !strings.Contains(string(body), `"reason": "incident 7"`) || !strings.Contains(string(body), `"added_by": "admin-api"`) {
		t.Errorf("list: %d %s", code, body)
	}
	if code, _ := a.call(t, "DELETE", "/quarantine?package=ms&versions=1.0.0", adminToken, ""); code != 404 {
		t.Errorf("delete missing: %d", code)
	}
	if code, _ := a.call(t, "DELETE", "/quarantine?package=ms&versions=2.1.3", adminToken, ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if resp, _ := a.get(t, "GET", "/ms/-/ms-2.1.3.tgz"); resp.StatusCode != 200 {
		t.Errorf("after removal: %d", resp.StatusCode)
	}
	if code, _ := a.call(t, "POST", "/reload", adminToken, ""); code != 200 || a.server.PolicyGeneration() != gen+3 {
		t.Errorf("reload: %d, generation %d", code, a.server.PolicyGeneration())
	}
}
