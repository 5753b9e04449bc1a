package process

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// slowRestore makes the store's restores wait, while on, until released.
type slowRestore struct {
	on      atomic.Bool
	release chan struct{}
}

func newSlowRestore() *slowRestore { return &slowRestore{release: make(chan struct{})} }

func (r *slowRestore) beforeOpen(ctx context.Context, _ int32) error {
	if !r.on.Load() {
		return nil
	}
	select {
	case <-r.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitReady waits until the harness's partition 0 has its state again.
func waitReady(t *testing.T, h *harness) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := h.store.PartitionBy(context.Background(), 0, time.Now().Add(100*time.Millisecond))
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state never came back: %v", err)
		}
	}
}

// handleOnce runs one batch through the stage and returns what it produced.
func handleOnce(t *testing.T, h *harness, recs []*kgo.Record) []*kgo.Record {
	t.Helper()
	var got []*kgo.Record
	out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { got = append(got, r); p(r, nil) })
	if err := h.st.Handle(context.Background(), recs, out); err != nil {
		t.Fatal(err)
	}
	h.st.AfterBatch(true)
	return got
}

// TestSlowRestoreSendsDegradedWithinBound: while a partition's restore is
// slow (a new replica, a lost disk), a purchase still reaches the
// destinations within the wait bound, marked degraded and without
// enrichment; once the state is there, events are enriched again. (That
// the restore brings back what the changelog holds is store's test.)
func TestSlowRestoreSendsDegradedWithinBound(t *testing.T) {
	t.Parallel()
	slow := newSlowRestore()
	slow.on.Store(true)
	const wait = 200 * time.Millisecond
	h := newHarnessWith(t, func(sc *store.Config) { sc.BeforeOpen = slow.beforeOpen }, func(c *Config) { c.StateWait = wait })
	purchase := func(id string) event.Event {
		h.now = h.now.Add(time.Hour)
		return event.Event{EventID: id, EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: h.now,
			User: event.User{AnonymousID: "anon-1"}, Properties: event.Properties{Value: fp(30), Currency: "EUR"}}
	}
	start := time.Now()
	h.send(purchase("web-2"))
	if took := time.Since(start); took > wait+3*time.Second {
		t.Errorf("batch took %s with state_wait %s", took, wait)
	}
	for _, dest := range []string{"meta", "tiktok"} {
		got, ok := h.last(dest, "web-2")
		if !ok {
			t.Fatalf("purchase never reached %s while the state was restoring; outcomes %+v", dest, h.outcomes)
		}
		if event.DegradedOf(&got) != event.DegradedStateUnavailable || got.Context.Cookies.Fbc != "" || got.Enrichment.NewCustomer != nil {
			t.Errorf("%s got degraded %q fbc %q new customer %v, want state_unavailable and no stored enrichment",
				dest, event.DegradedOf(&got), got.Context.Cookies.Fbc, got.Enrichment.NewCustomer)
		}
	}
	if o, _ := h.outcome("web-2", ""); o.Status != event.StatusRouted || o.Degraded != event.DegradedStateUnavailable || len(o.Destinations) != 2 {
		t.Errorf("routed outcome = %+v, want routed to both, degraded state_unavailable", o)
	}

	close(slow.release)
	waitReady(t, h)
	h.now = h.now.Add(time.Hour)
	clickAt := h.now
	h.send(event.Event{EventID: "web-1", EventName: event.NamePageView, Source: event.SourceWeb, EventTime: clickAt,
		User: event.User{AnonymousID: "anon-1"}, Context: event.Context{ClickIDs: event.ClickIDs{Fbclid: "IwAR-click"}}})
	h.send(purchase("web-3"))
	got, ok := h.last("meta", "web-3")
	wantFbc := "fb.1." + strconv.FormatInt(clickAt.UnixMilli(), 10) + ".IwAR-click"
	if !ok || event.DegradedOf(&got) != "" || got.Context.Cookies.Fbc != wantFbc {
		t.Errorf("after the restore: sent %v, degraded %q, fbc %q; want enriched with fbc %q", ok, event.DegradedOf(&got), got.Context.Cookies.Fbc, wantFbc)
	}
	if o, _ := h.outcome("web-3", ""); o.Degraded != "" {
		t.Errorf("routed outcome after the restore = %+v, want not degraded", o)
	}
	// The degraded purchase set no dedupe mark: sent again, it goes out
	// again, and the platform's event-id dedupe is what catches it.
	before := len(h.sent["meta"])
	h.send(purchase("web-2"))
	if len(h.sent["meta"]) != before+1 {
		t.Errorf("resend of the degraded purchase: %d sent to meta, want 1 (it was never marked)", len(h.sent["meta"])-before)
	}
}

// TestFailingStoreProcessesDegraded: a store that never opens costs no
// record: every event is routed by what it carries, with consent applied,
// and each input record has its routed outcome and, per destination, either
// a record on sp.out.<dest> or a terminal outcome.
func TestFailingStoreProcessesDegraded(t *testing.T) {
	t.Parallel()
	broken := errors.New("pebble: disk full")
	h := newHarnessWith(t, func(sc *store.Config) {
		sc.BeforeOpen = func(context.Context, int32) error { return broken }
	}, func(c *Config) {
		c.StateWait = 2 * time.Second
		c.ConsentPolicy = func(string) (string, string) { return PolicyDrop, PolicyStripIdentifiers }
	})
	granted := &event.Consent{AdUserData: event.ConsentGranted}
	buy := event.Event{EventID: "buy-1", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: t0, Consent: granted,
		User: event.User{UserID: "user-1", Email: "ada@example.com"}, Context: event.Context{ClickIDs: event.ClickIDs{Fbclid: "IwAR-own"}},
		Properties: event.Properties{Value: fp(10), Currency: "EUR"}}
	evs := []event.Event{
		buy,
		{EventID: "deny-1", EventName: event.NamePageView, Source: event.SourceWeb, EventTime: t0, Consent: &event.Consent{AdUserData: event.ConsentDenied},
			User: event.User{UserID: "user-2"}},
		{EventID: "unknown-1", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: t0,
			User: event.User{UserID: "user-3", Email: "bo@example.com"}, Properties: event.Properties{Value: fp(5), Currency: "EUR"}},
		{EventID: "crm-1", EventName: event.NameClosedDeal, Source: event.SourceCRM, EventTime: t0, Consent: granted,
			User: event.User{ExternalID: "crm-9"}, Profile: &event.Profile{Exclusions: []string{event.ExclusionUnsubscribed}}},
		buy, // the same event again: not deduplicated without state
	}
	for i := range evs {
		evs[i].Origin = event.Origin{Topic: "events.web", Offset: int64(100 + i)}
	}
	h.send(evs...)

	// The ledger of the process stage: one routed outcome per input record
	// and, per destination it names, one record sent or one terminal outcome.
	type slot struct{ record, dest string }
	ends := map[slot]int{}
	routed := map[string]event.Outcome{}
	for _, o := range h.outcomes {
		switch {
		case o.Status == event.StatusRouted:
			if _, dup := routed[o.Record]; dup {
				t.Errorf("record %s routed twice", o.Record)
			}
			routed[o.Record] = o
		case o.Status.Terminal():
			ends[slot{o.Record, o.Destination}]++
			if o.Degraded != event.DegradedStateError {
				t.Errorf("terminal outcome %+v not marked degraded", o)
			}
		}
	}
	for dest, sent := range h.sent {
		for _, ev := range sent {
			ends[slot{ev.Origin.String(), dest}]++
		}
	}
	for _, ev := range evs {
		o, ok := routed[ev.Origin.String()]
		if !ok {
			t.Errorf("record %s (%s) has no routed outcome", ev.Origin, ev.EventID)
			continue
		}
		if o.Degraded != event.DegradedStateError {
			t.Errorf("routed outcome of %s degraded %q, want state_error", ev.EventID, o.Degraded)
		}
		for _, d := range o.Destinations {
			if n := ends[slot{o.Record, d}]; n != 1 {
				t.Errorf("record %s at %s ended %d times, want once", o.Record, d, n)
			}
		}
	}

	got, ok := h.last("meta", "buy-1")
	wantFbc := "fb.1." + strconv.FormatInt(t0.UnixMilli(), 10) + ".IwAR-own"
	if !ok || event.DegradedOf(&got) != event.DegradedStateError || got.Context.Cookies.Fbc != wantFbc || got.User.Email == "" {
		t.Errorf("granted purchase: sent %v degraded %q fbc %q email set %v; want state_error, its own fbclid as fbc, its email",
			ok, event.DegradedOf(&got), got.Context.Cookies.Fbc, got.User.Email != "")
	}
	if got.Enrichment == nil || got.Enrichment.Identity == "" {
		t.Error("degraded event carries no identity: a withdrawal could not purge it while queued")
	}
	if o, _ := h.outcome("deny-1", "meta"); o.Status != event.StatusSuppressed || o.Reason != ReasonConsentDenied {
		t.Errorf("denied event at meta = %+v, want suppressed consent_denied", o)
	}
	if len(h.withdrew) == 0 {
		t.Error("the denial wrote no withdrawal marker")
	}
	if s, _ := h.last("meta", "unknown-1"); s.User.Email != "" || s.Enrichment == nil || !s.Enrichment.IdentifiersStripped {
		t.Errorf("event without consent sent with user %+v, want identifiers stripped by the unknown policy", s.User)
	}
	if o, _ := h.outcome("crm-1", "meta"); o.Status != event.StatusSuppressed || o.Reason != ReasonExcludedPrefix+event.ExclusionUnsubscribed {
		t.Errorf("CRM deal of an unsubscribed contact = %+v, want suppressed by its own exclusion", o)
	}
	n := 0
	for _, ev := range h.sent["meta"] {
		if ev.EventID == "buy-1" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("buy-1 sent %d times to meta, want 2 (no dedupe without state)", n)
	}
}

// TestInternalRecordsWaitForState: a link record of a partition whose state
// is restoring is not acted on without it: it is put back unchanged, its
// carried event gets no outcome, while an event of the same batch goes out
// degraded; once the state is back, the link is made.
func TestInternalRecordsWaitForState(t *testing.T) {
	t.Parallel()
	slow := newSlowRestore()
	slow.on.Store(true)
	h := newHarnessWith(t, func(sc *store.Config) { sc.BeforeOpen = slow.beforeOpen }, func(c *Config) { c.StateWait = 100 * time.Millisecond })
	carried, _ := json.Marshal(event.Event{EventID: "app-1", EventName: event.NameSignUp, Source: event.SourceApp, EventTime: t0,
		User: event.User{UserID: "user-1", AnonymousID: "anon-1"}, Origin: event.Origin{Topic: "events.app", Offset: 7}})
	link, _ := json.Marshal(linkMsg{To: "user-key", ToRank: 4, Event: carried})
	linkRec := h.rec(h.topics.Events(), []byte("anon-key"), link, []kgo.RecordHeader{
		{Key: HeaderKind, Value: []byte(KindLink)}, {Key: HeaderHops, Value: []byte("1")}, {Key: HeaderRank, Value: []byte("2")}})
	ev, _ := json.Marshal(event.Event{EventID: "web-9", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: t0,
		User: event.User{AnonymousID: "anon-2"}, Origin: event.Origin{Topic: "events.web", Offset: 9}})
	evRec := h.rec(h.topics.Events(), []byte("anon-2-key"), ev, nil)

	start := time.Now()
	got := handleOnce(t, h, []*kgo.Record{linkRec, evRec})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("batch took %s with state_wait 100ms", took)
	}
	var requeued *kgo.Record
	sentOut := false
	for _, r := range got {
		switch r.Topic {
		case h.topics.Events():
			if kafkax.Header(r, HeaderKind) != KindLink || string(r.Key) != "anon-key" || string(r.Value) != string(link) || requeued != nil {
				t.Fatalf("unexpected record on sp.events without state: kind %q key %q", kafkax.Header(r, HeaderKind), r.Key)
			}
			requeued = r
		case h.topics.State(StoreName):
			t.Errorf("changelog record %q written without state", r.Key)
		case h.topics.Out("meta"):
			sentOut = true
		case h.topics.Outcomes():
			var o event.Outcome
			_ = json.Unmarshal(r.Value, &o)
			if o.EventID == "app-1" {
				t.Errorf("the carried sign-up got outcome %+v before its link was made", o)
			}
		}
	}
	if requeued == nil {
		t.Fatal("the link record was neither processed nor put back: it is lost")
	}
	if !sentOut {
		t.Error("the event of the same batch did not go out while the link waited")
	}

	close(slow.release)
	waitReady(t, h)
	again := h.rec(requeued.Topic, requeued.Key, requeued.Value, requeued.Headers)
	merged := false
	for _, r := range handleOnce(t, h, []*kgo.Record{again}) {
		if r.Topic == h.topics.Events() && kafkax.Header(r, HeaderKind) == KindMerge && string(r.Key) == "user-key" {
			merged = true
		}
	}
	if !merged {
		t.Error("with the state back, the link record sent no merge to its person")
	}
}
