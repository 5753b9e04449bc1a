package quality_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/quality"
)

// hook is one webhook receiver shared by every replica; it records the
// messages' texts.
type hook struct {
	mu   sync.Mutex
	msgs []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Text == "" {
		http.Error(w, "not a slack message", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, m.Text)
}

func (h *hook) texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

// TestOneLeaderPostsAlerts: two replicas evaluate the same rule and share
// one webhook. Only the leader posts, so a firing alert makes one message;
// when the leader leaves, the other replica takes over, does not announce
// the alert again, and announces its resolution once, whether the alert
// resolves after the failover or already did while the leader was leaving.
func TestOneLeaderPostsAlerts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name          string
		resolveBefore bool // the alert clears before the leader leaves
	}{
		{"resolves after the failover", false},
		{"resolved during the failover", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testFailover(t, tt.resolveBefore)
		})
	}
}

func testFailover(t *testing.T, resolveBefore bool) {
	sc, ctx := newSnapCluster(t, 2)
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var clockNs atomic.Int64
	clockNs.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, clockNs.Load()) }
	cfg := quality.Config{Alerts: quality.AlertsConfig{Rules: []quality.Rule{{Name: "dlq", Kind: quality.RuleDLQGrowth, Threshold: 2, Window: 10 * time.Minute}}}}
	start := func() *replica {
		r := sc.start(ctx, replicaOpts{cfg: cfg, clock: clock, elect: true})
		r.mon.Alerter.WebhookURL = srv.URL
		return r
	}
	a := start()
	waitFor(ctx, t, "replica a leads", a.snap.Leading)
	b := start()

	// Eight records, every fourth rejected: two DLQ records, the threshold.
	tl := newTally()
	now := clock()
	var ats []time.Time
	for i := range 8 {
		ats = append(ats, now.Add(-time.Duration(i)*time.Second))
	}
	sc.produce(ctx, tl, ats...)
	for _, r := range []*replica{a, b} {
		waitFor(ctx, t, "both replicas catch up", func() bool { return terminal(r) == int64(tl.n) && r.mon.CatchUp.Done() })
	}
	firing := func(r *replica) bool {
		for _, al := range r.mon.Alerter.Alerts() {
			if al.Rule == "dlq" && al.State == quality.AlertFiring {
				return true
			}
		}
		return false
	}
	evaluate := func(rs ...*replica) {
		for range 3 {
			for _, r := range rs {
				r.mon.Alerter.Evaluate(ctx)
			}
		}
	}
	evaluate(a, b)
	if !firing(a) || !firing(b) {
		t.Fatalf("the alert is not firing on both replicas: a %v, b %v", a.mon.Alerter.Alerts(), b.mon.Alerter.Alerts())
	}
	if got := h.texts(); len(got) != 1 || !strings.Contains(got[0], "FIRING") {
		t.Fatalf("messages %q; want one FIRING message", got)
	}
	// The window moves past the DLQ records: the alert clears.
	resolve := func() { clockNs.Add(int64(20 * time.Minute)) }
	if resolveBefore {
		// b, following, sees it resolve; a leaves before it evaluates.
		resolve()
		evaluate(b)
	}

	a.stop()
	waitFor(ctx, t, "replica b leads", b.snap.Leading)
	if !resolveBefore {
		evaluate(b)
		if got := h.texts(); len(got) != 1 {
			t.Fatalf("after the failover, messages %q; want still the one FIRING message", got)
		}
		if !firing(b) {
			t.Fatal("the alert no longer fires on replica b")
		}
		resolve()
	}
	evaluate(b)
	got := h.texts()
	if len(got) != 2 || !strings.Contains(got[1], "RESOLVED") || !strings.Contains(got[1], "dlq") {
		t.Fatalf("messages %q; want FIRING then RESOLVED", got)
	}
}
