package quality

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// webhook is a Slack-compatible receiver that records message texts.
type webhook struct {
	mu   sync.Mutex
	msgs []string
	fail bool
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var m slackMessage
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &m); err != nil || m.Text == "" || len(m.Attachments) != 1 {
		http.Error(rw, "not a slack message", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		http.Error(rw, "down", http.StatusServiceUnavailable)
		return
	}
	w.msgs = append(w.msgs, m.Text)
}

func (w *webhook) texts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// step is one evaluation: first the clock advances, then outcomes arrive
// (each with the clock's time), then the rules are evaluated.
type step struct {
	advance   time.Duration
	delivered int
	rejected  int
	breaker   string
	failHook  bool
	wantState AlertState // "" means no alert listed as pending or firing
	wantMsgs  []string   // prefixes of every message sent so far
}

func TestAlertLifecycle(t *testing.T) {
	t.Parallel()
	errRule := Rule{Name: "meta errors", Kind: RuleErrorRate, Destination: "meta", Threshold: 0.2, Window: 10 * time.Minute, For: 5 * time.Minute, MinVolume: 5}
	breakerRule := Rule{Name: "breaker", Kind: RuleBreakerOpen, For: time.Minute}
	tests := []struct {
		name  string
		rule  Rule
		steps []step
	}{
		{"fires after For, holds without repeating, resolves after For clear", errRule, []step{
			{delivered: 5, rejected: 5, wantState: AlertPending},
			{advance: 2 * time.Minute, wantState: AlertPending},
			{advance: 3 * time.Minute, wantState: AlertFiring, wantMsgs: []string{":rotating_light: FIRING meta errors"}},
			{advance: time.Minute, rejected: 5, wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
			// The bad minutes leave the 10-minute window; good traffic.
			{advance: 10 * time.Minute, delivered: 50, wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
			{advance: 5 * time.Minute, delivered: 50, wantState: "", wantMsgs: []string{":rotating_light:", ":white_check_mark: RESOLVED meta errors"}},
		}},
		{"a blip shorter than For sends nothing", errRule, []step{
			{delivered: 5, rejected: 5, wantState: AlertPending},
			{advance: 11 * time.Minute, delivered: 50, wantState: ""},
			{advance: 10 * time.Minute, wantState: ""},
		}},
		{"a short clear while firing does not resolve (no flapping)", errRule, []step{
			{delivered: 5, rejected: 5, wantState: AlertPending},
			{advance: 5 * time.Minute, rejected: 1, wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
			{advance: 11 * time.Minute, delivered: 50, wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
			{advance: 2 * time.Minute, rejected: 40, wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
		}},
		{"too few events to judge", errRule, []step{
			{delivered: 1, rejected: 3, wantState: ""},
		}},
		{"breaker open fires per destination; webhook down is retried", breakerRule, []step{
			{breaker: "open", wantState: AlertPending},
			{advance: time.Minute, breaker: "open", failHook: true, wantState: AlertFiring},
			{advance: time.Minute, breaker: "open", wantState: AlertFiring, wantMsgs: []string{":rotating_light: FIRING breaker — meta"}},
			{advance: time.Minute, breaker: "closed", wantState: AlertFiring, wantMsgs: []string{":rotating_light:"}},
			{advance: time.Minute, breaker: "closed", wantState: "", wantMsgs: []string{":rotating_light:", ":white_check_mark:"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hook := &webhook{}
			srv := httptest.NewServer(hook)
			defer srv.Close()
			clk := &fakeClock{t: t0}
			agg := NewAggregator(AggregatorOptions{Clock: clk.Now})
			var breaker string
			al := &Alerter{Rules: []Rule{tt.rule}, Agg: agg, Clock: clk.Now, WebhookURL: srv.URL, Client: srv.Client(),
				Breakers: func() map[string]string { return map[string]string{"meta": breaker} }}
			for i, s := range tt.steps {
				clk.Add(s.advance)
				breaker = s.breaker
				hook.mu.Lock()
				hook.fail = s.failHook
				hook.mu.Unlock()
				for j := range s.delivered + s.rejected {
					st := event.StatusDelivered
					if j >= s.delivered {
						st = event.StatusRejected
					}
					agg.Add(event.Outcome{Record: "r", Destination: "meta", EventName: "purchase", Status: st, At: clk.Now()})
				}
				al.Evaluate(context.Background())
				var got AlertState
				for _, a := range al.Alerts() {
					if a.State != AlertResolved {
						got = a.State
					}
				}
				if got != s.wantState {
					t.Fatalf("step %d: state %q, want %q", i, got, s.wantState)
				}
				msgs := hook.texts()
				if len(msgs) != len(s.wantMsgs) {
					t.Fatalf("step %d: messages %q, want %d", i, msgs, len(s.wantMsgs))
				}
				for k, p := range s.wantMsgs {
					if !strings.HasPrefix(msgs[k], p) {
						t.Errorf("step %d: message %d = %q, want prefix %q", i, k, msgs[k], p)
					}
				}
			}
		})
	}
}

func TestAlertVolumeDropAndCoverage(t *testing.T) {
	t.Parallel()
	week := 7 * 24 * time.Hour
	tests := []struct {
		name        string
		rule        Rule
		lastWeek    int // events in the same hour a week ago
		now         int // events in the last hour
		nowKeys     []string
		weekKeys    []string
		wantBreach  bool
		wantValueGE float64
	}{
		{"volume halved", Rule{Name: "v", Kind: RuleVolumeDrop, Threshold: 0.5, MinVolume: 10}, 100, 40, nil, nil, true, 0.6},
		{"volume steady", Rule{Name: "v", Kind: RuleVolumeDrop, Threshold: 0.5, MinVolume: 10}, 100, 90, nil, nil, false, 0.1},
		{"email coverage fell", Rule{Name: "c", Kind: RuleCoverageDrop, MatchKey: "email", Threshold: 0.3}, 50, 50, []string{"client_ip_address"}, []string{"em"}, true, 1},
		{"email coverage held", Rule{Name: "c", Kind: RuleCoverageDrop, MatchKey: "email", Threshold: 0.3}, 50, 50, []string{"em"}, []string{"em"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.rule.Window = time.Hour
			clk := &fakeClock{t: t0.Add(week + 30*time.Minute)}
			agg := NewAggregator(AggregatorOptions{Clock: clk.Now})
			add := func(at time.Time, n int, keys []string) {
				for range n {
					agg.Add(event.Outcome{Record: "r", EventID: "e", EventName: "lead", Status: event.StatusRouted, Destinations: []string{"meta"}, At: at})
					agg.Add(event.Outcome{Record: "r", EventName: "lead", Destination: "meta", Status: event.StatusDelivered, MatchKeys: keys, At: at})
				}
			}
			add(t0, tt.lastWeek, tt.weekKeys)
			add(clk.Now().Add(-10*time.Minute), tt.now, tt.nowKeys)
			al := &Alerter{Rules: []Rule{tt.rule}, Agg: agg, Clock: clk.Now}
			c := al.read(tt.rule, clk.Now())
			if len(c) != 1 || c[0].breached != tt.wantBreach || !c[0].enough || c[0].value < tt.wantValueGE {
				t.Errorf("check = %+v, want breached=%v value ≥ %v", c, tt.wantBreach, tt.wantValueGE)
			}
		})
	}
}

// TestAlertsWaitForCatchUp: while the aggregates are rebuilt after a
// restart the recent windows look empty, so no rule may judge them.
func TestAlertsWaitForCatchUp(t *testing.T) {
	t.Parallel()
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	clk := &fakeClock{t: t0}
	m := NewMonitor(Config{Alerts: AlertsConfig{Rules: []Rule{{Name: "v", Kind: RuleVolumeDrop, Threshold: 0.5, Window: time.Hour}}}}, MonitorOptions{Clock: clk.Now})
	m.Alerter.WebhookURL, m.Alerter.Client = srv.URL, srv.Client()
	m.CatchUp = NewCatchUp(t0)
	// Last week had traffic; this hour is not read yet.
	for range 100 {
		m.Add(event.Outcome{Record: "r", EventName: "lead", Status: event.StatusInvalid, At: t0.Add(-7*24*time.Hour + 10*time.Minute)})
	}
	clk.Add(30 * time.Minute)
	m.Alerter.Evaluate(context.Background())
	if a := m.Alerter.Alerts(); len(a) != 0 {
		t.Fatalf("alerts while catching up: %+v", a)
	}
	m.CatchUp.mu.Lock()
	m.CatchUp.done = true
	m.CatchUp.mu.Unlock()
	m.Alerter.Evaluate(context.Background())
	if a := m.Alerter.Alerts(); len(a) != 1 || a[0].State != AlertFiring {
		t.Fatalf("after catching up: %+v, want the volume drop firing (for 0)", a)
	}
}
