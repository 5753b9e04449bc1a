package process

import (
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestConsentMatrix: each policy × each consent state → the payload handed
// to the destination, or the suppression and its reason.
func TestConsentMatrix(t *testing.T) {
	t.Parallel()
	type want struct {
		sent     bool
		reason   string // suppression reason when not sent
		ids      bool   // personal identifiers kept
		ldu      bool   // LimitedDataUse asked for
		stripped bool
	}
	states := []struct {
		name    string
		consent *event.Consent
		excl    []string // from an earlier CRM profile
	}{
		{"granted", &event.Consent{AdUserData: event.ConsentGranted}, nil},
		{"denied", &event.Consent{AdUserData: event.ConsentDenied}, nil},
		{"unknown", nil, nil},
		{"granted but unsubscribed", &event.Consent{AdUserData: event.ConsentGranted}, []string{event.ExclusionUnsubscribed}},
		{"granted but do-not-sell", &event.Consent{AdUserData: event.ConsentGranted}, []string{event.ExclusionDoNotSell}},
	}
	sendAll := want{sent: true, ids: true}
	matrix := map[string]map[string]want{
		PolicyDrop: {
			"granted": sendAll, "denied": {reason: ReasonConsentDenied}, "unknown": {reason: ReasonConsentUnknown},
			"granted but unsubscribed": {reason: "excluded_unsubscribed"}, "granted but do-not-sell": {reason: "excluded_do_not_sell"},
		},
		PolicyStripIdentifiers: {
			"granted": sendAll, "denied": {sent: true, stripped: true}, "unknown": {sent: true, stripped: true},
			"granted but unsubscribed": {reason: "excluded_unsubscribed"}, "granted but do-not-sell": {sent: true, stripped: true},
		},
		PolicySendWithFlags: {
			"granted": sendAll, "denied": {sent: true, ids: true, ldu: true}, "unknown": {sent: true, ids: true, ldu: true},
			"granted but unsubscribed": {reason: "excluded_unsubscribed"}, "granted but do-not-sell": {sent: true, ids: true, ldu: true},
		},
		PolicySend: {
			"granted": sendAll, "denied": sendAll, "unknown": sendAll,
			"granted but unsubscribed": {reason: "excluded_unsubscribed"}, "granted but do-not-sell": sendAll,
		},
	}
	for policy, row := range matrix {
		for _, st := range states {
			w := row[st.name]
			t.Run(policy+"/"+st.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, func(c *Config) {
					metaOnly(c)
					c.ConsentPolicy = func(string) (string, string) { return policy, policy }
				})
				if st.excl != nil {
					h.send(event.Event{EventID: "crm-profile", EventName: event.NameIdentify, Source: event.SourceCRM, EventTime: t0.Add(-time.Hour),
						User: event.User{UserID: "u-9"}, Profile: &event.Profile{Exclusions: st.excl}})
				}
				ev := event.Event{EventID: "p1", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: t0,
					User:    event.User{UserID: "u-9", Email: "p@example.com"},
					Context: event.Context{IP: "203.0.113.5", UserAgent: "UA", PageURL: "https://x.example/", ClickIDs: event.ClickIDs{Gclid: "g-1"}},
					Consent: st.consent, Properties: event.Properties{Value: fp(5)}}
				h.send(ev)
				got, sent := h.last("meta", "p1")
				if sent != w.sent {
					o, _ := h.outcome("p1", "meta")
					t.Fatalf("sent = %v, want %v (outcome %+v)", sent, w.sent, o)
				}
				if !sent {
					o, _ := h.outcome("p1", "meta")
					if o.Status != event.StatusSuppressed || o.Reason != w.reason {
						t.Errorf("outcome %+v, want suppressed %s", o, w.reason)
					}
					return
				}
				hasIDs := got.User.Email != "" || got.User.UserID != "" || got.Context.IP != "" || got.Context.ClickIDs.Gclid != ""
				en := got.Enrichment
				if hasIDs != w.ids || en.LimitedDataUse != w.ldu || en.IdentifiersStripped != w.stripped {
					t.Errorf("identifiers %v, LDU %v, stripped %v; want %v, %v, %v", hasIDs, en.LimitedDataUse, en.IdentifiersStripped, w.ids, w.ldu, w.stripped)
				}
				if w.stripped && (got.User != event.User{} || got.Context.UserAgent != "" || got.Context.Cookies != event.Cookies{}) {
					t.Errorf("stripped event still carries %+v / %+v", got.User, got.Context)
				}
			})
		}
	}
}

// TestPersonConsentCarriesToLaterEvents: a denial given once applies to
// the person's later events that carry no signal of their own, and a later
// grant lifts it.
func TestPersonConsentCarriesToLaterEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, metaOnly) // denied → drop, unknown → send
	ev := func(id string, at time.Duration, c *event.Consent) event.Event {
		return event.Event{EventID: id, EventName: event.NameLead, Source: event.SourceApp, EventTime: t0.Add(at), User: event.User{UserID: "u-c"}, Consent: c}
	}
	h.send(ev("before", 0, nil))
	h.send(ev("denial", time.Hour, &event.Consent{AdUserData: event.ConsentDenied}))
	h.send(ev("after", 2*time.Hour, nil))
	h.send(ev("grant", 3*time.Hour, &event.Consent{AdUserData: event.ConsentGranted}))
	h.send(ev("later", 4*time.Hour, nil))
	for id, wantSent := range map[string]bool{"before": true, "denial": false, "after": false, "grant": true, "later": true} {
		if _, sent := h.last("meta", id); sent != wantSent {
			o, _ := h.outcome(id, "meta")
			t.Errorf("%s sent = %v, want %v (outcome %+v)", id, sent, wantSent, o)
		}
	}
}

// TestWithdrawalMarkers: a denial after none, or a new CRM exclusion, is a
// withdrawal (one marker for the person); repeating it is not.
func TestWithdrawalMarkers(t *testing.T) {
	t.Parallel()
	ev := func(id string, at time.Duration, c *event.Consent, pr *event.Profile) event.Event {
		return event.Event{EventID: id, EventName: event.NameLead, Source: event.SourceCRM, EventTime: t0.Add(at), User: event.User{UserID: "u-w"}, Consent: c, Profile: pr}
	}
	denied := &event.Consent{AdUserData: event.ConsentDenied}
	tests := []struct {
		name string
		in   []event.Event
		want int
	}{
		{"grant is not a withdrawal", []event.Event{ev("a", 0, &event.Consent{AdUserData: event.ConsentGranted}, nil)}, 0},
		{"first denial", []event.Event{ev("a", 0, nil, nil), ev("b", time.Hour, denied, nil)}, 1},
		{"repeated denial", []event.Event{ev("a", 0, denied, nil), ev("b", time.Hour, denied, nil)}, 1},
		{"new exclusion", []event.Event{ev("a", 0, nil, &event.Profile{Exclusions: []string{event.ExclusionComplaint}})}, 1},
		{"same exclusion again", []event.Event{ev("a", 0, nil, &event.Profile{Exclusions: []string{event.ExclusionComplaint}}), ev("b", time.Hour, nil, &event.Profile{Exclusions: []string{event.ExclusionComplaint}})}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, metaOnly)
			for _, e := range tt.in {
				h.send(e)
			}
			if len(h.withdrew) != tt.want {
				t.Fatalf("%d withdrawal markers, want %d", len(h.withdrew), tt.want)
			}
			if tt.want > 0 {
				if sent, ok := h.last("meta", tt.in[0].EventID); ok && h.withdrew[0] != sent.Enrichment.Identity {
					t.Errorf("marker for %s, the person's key is %s", h.withdrew[0], sent.Enrichment.Identity)
				}
			}
		})
	}
	w := NewWithdrawals()
	w.Add("k", t0)
	for _, tt := range []struct {
		id   string
		at   time.Time
		want bool
	}{
		{"k", t0.Add(-time.Minute), true}, {"k", t0, true}, {"k", t0.Add(time.Minute), false}, {"other", t0.Add(-time.Minute), false}, {"", t0, false},
	} {
		if got := w.Purged(tt.id, tt.at); got != tt.want {
			t.Errorf("Purged(%q, %s) = %v, want %v", tt.id, tt.at.Sub(t0), got, tt.want)
		}
	}
}
