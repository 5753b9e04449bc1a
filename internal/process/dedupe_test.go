package process

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func metaOnly(c *Config) {
	c.Routes = []Route{{Destination: "meta", Accepts: func(*event.Event) bool { return true }}}
	c.DedupeWindow = 7 * 24 * time.Hour
}

func purchase(id, order string, at time.Time) event.Event {
	return event.Event{EventID: id, EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: at,
		User: event.User{UserID: "buyer"}, Properties: event.Properties{Value: fp(10), OrderID: order}}
}

// step is one thing that happens in a dedupe scenario.
type step struct {
	advance time.Duration // first, move the clock
	send    *event.Event  // then send this event …
	release *event.Event  // … or report this one's delivery as ended rejected
	want    event.Status  // the meta outcome for a send: "" means sent (routed, no terminal yet)
	reason  string
}

func TestDedupeWindowsAndRelease(t *testing.T) {
	t.Parallel()
	ev := func(id, order string) *event.Event { e := purchase(id, order, t0); return &e }
	lead := func(id, order string) *event.Event {
		e := purchase(id, order, t0)
		e.EventName = event.NameLead
		return &e
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"same event id twice", []step{
			{send: ev("e1", "")},
			{send: ev("e1", ""), want: event.StatusDeduplicated, reason: ReasonDuplicateEventID},
		}},
		{"same order id under another event id", []step{
			{send: ev("e1", "o1")},
			{send: ev("e2", "o1"), want: event.StatusDeduplicated, reason: ReasonDuplicateOrderID},
		}},
		{"same order id under another event name passes", []step{
			{send: ev("e1", "o1")},
			{send: lead("e2", "o1")},
		}},
		{"just inside the window", []step{
			{send: ev("e1", "")},
			{advance: 7*24*time.Hour - time.Second, send: ev("e1", ""), want: event.StatusDeduplicated, reason: ReasonDuplicateEventID},
		}},
		{"window passed", []step{
			{send: ev("e1", "")},
			{advance: 7 * 24 * time.Hour, send: ev("e1", "")},
		}},
		{"released after a rejection, a resend passes", []step{
			{send: ev("e1", "o1")},
			{release: ev("e1", "o1")},
			{send: ev("e1", "o1")},
		}},
		{"a release by another event keeps the order key", []step{
			{send: ev("e1", "o1")},
			{release: ev("e2", "o1")},
			{send: ev("e3", "o1"), want: event.StatusDeduplicated, reason: ReasonDuplicateOrderID},
		}},
		{"a deduplicated copy does not extend the window", []step{
			{send: ev("e1", "")},
			{advance: 6 * 24 * time.Hour, send: ev("e1", ""), want: event.StatusDeduplicated, reason: ReasonDuplicateEventID},
			{advance: 24 * time.Hour, send: ev("e1", "")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, metaOnly)
			for i, s := range tt.steps {
				h.now = h.now.Add(s.advance)
				if s.release != nil {
					r := *s.release
					// A dead letter carries the person's key the stage put
					// on the events it sent; all of a scenario's are one
					// buyer's.
					r.Enrichment = h.sent["meta"][0].Enrichment
					h.deadLetter("meta", r)
					continue
				}
				before := len(h.sent["meta"])
				e := *s.send
				e.EventTime = h.now
				e.Origin = event.Origin{Topic: "events.web", Offset: int64(i)}
				h.send(e)
				o, _ := h.outcome(e.EventID, "meta")
				sent := len(h.sent["meta"]) > before
				switch {
				case s.want == "" && !sent:
					t.Fatalf("step %d: %s not sent; outcome %+v", i, e.EventID, o)
				case s.want != "" && (sent || o.Status != s.want || o.Reason != s.reason || o.Record != e.Origin.String()):
					t.Fatalf("step %d: sent %v, outcome %+v; want %s %s for %s", i, sent, o, s.want, s.reason, e.Origin)
				}
			}
		})
	}
}

// TestDedupePropertyAgainstModel drives random sends, releases and clock
// moves and compares every decision with a plain model of the rules: a key
// blocks for the window after the send that set it, a release by the event
// that set a key frees it.
func TestDedupePropertyAgainstModel(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 42))
			h := newHarness(t, metaOnly)
			model := dedupeModel{window: 7 * 24 * time.Hour, marks: map[string]modelMark{}}
			var sentEvents []event.Event
			for i := 0; i < 150; i++ {
				h.now = h.now.Add(time.Duration(rng.IntN(36)) * time.Hour)
				if rng.IntN(5) == 0 && len(sentEvents) > 0 {
					r := sentEvents[rng.IntN(len(sentEvents))]
					h.deadLetter("meta", r)
					model.release(r)
					continue
				}
				order := ""
				if rng.IntN(2) == 0 {
					order = "o" + strconv.Itoa(rng.IntN(4))
				}
				e := purchase("e"+strconv.Itoa(rng.IntN(6)), order, h.now)
				e.Origin = event.Origin{Topic: "events.web", Offset: int64(i)}
				if sent, ok := model.check(t, h, i, e); ok {
					sentEvents = append(sentEvents, sent)
				}
			}
		})
	}
}

// dedupeModel is the plain model of the dedupe rules: a key blocks for the
// window after the send that set it, a release by the event that set a key
// frees it.
type dedupeModel struct {
	window time.Duration
	marks  map[string]modelMark
}

type modelMark struct {
	by string
	at time.Time
}

func (m dedupeModel) keys(e event.Event) []string {
	k := []string{"e/" + e.EventID}
	if e.Properties.OrderID != "" {
		k = append(k, "o/"+e.EventName+"/"+e.Properties.OrderID)
	}
	return k
}

func (m dedupeModel) release(e event.Event) {
	for _, k := range m.keys(e) {
		if mk, ok := m.marks[k]; ok && mk.by == e.EventID {
			delete(m.marks, k)
		}
	}
}

// check sends e (op i) through h and fails t unless the stage decides as
// the model does; it returns the event as sent, when sent.
func (m dedupeModel) check(t *testing.T, h *harness, i int, e event.Event) (event.Event, bool) {
	t.Helper()
	wantDup := false
	for _, k := range m.keys(e) {
		if mk, ok := m.marks[k]; ok && h.now.Sub(mk.at) < m.window {
			wantDup = true
			break
		}
	}
	before := len(h.sent["meta"])
	h.send(e)
	gotSent := len(h.sent["meta"]) > before
	if gotSent == wantDup {
		o, _ := h.outcome(e.EventID, "meta")
		t.Fatalf("op %d: %s order %q (%s) at +%s: sent %v, model says duplicate %v (outcome %+v)", i, e.EventID, e.Properties.OrderID, e.Source, h.now.Sub(t0), gotSent, wantDup, o)
	}
	if !gotSent {
		return event.Event{}, false
	}
	for _, k := range m.keys(e) {
		m.marks[k] = modelMark{by: e.EventID, at: h.now}
	}
	return h.sent["meta"][len(h.sent["meta"])-1], true
}

// TestDedupeStorageIsBounded: marks older than the window are swept, so
// the store holds only the window's keys.
func TestDedupeStorageIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { metaOnly(c); c.DedupeWindow = time.Hour })
	count := func() int {
		n := 0
		if err := h.pt().Scan([]byte{prefixDedupe}, []byte{prefixDedupe + 1}, func(_, _ []byte) bool { n++; return true }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < 50; i++ {
		h.send(purchase("old-"+strconv.Itoa(i), "ord-"+strconv.Itoa(i), h.now))
	}
	if got := count(); got != 100 {
		t.Fatalf("%d marks after 50 purchases with order ids, want 100", got)
	}
	h.now = h.now.Add(2 * time.Hour)
	h.send(purchase("new", "", h.now))
	if got := count(); got != 1 {
		t.Errorf("%d marks after the window passed, want only the new event's", got)
	}
}

// TestPeopleAgeOut: a person not seen for PersonTTL is forgotten; one seen
// since is kept.
func TestPeopleAgeOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { metaOnly(c); c.PersonTTL = 48 * time.Hour })
	visit := func(user string) {
		h.send(event.Event{EventID: user + "-" + h.now.Format("150405.000"), EventName: event.NamePageView, Source: event.SourceWeb, EventTime: h.now,
			User: event.User{UserID: user}, Context: event.Context{ClickIDs: event.ClickIDs{Gclid: "g-" + user}}})
	}
	people := func() map[string]bool {
		out := map[string]bool{}
		if err := h.pt().Scan([]byte{prefixPerson}, []byte{prefixPerson + 1}, func(k, _ []byte) bool { out[string(k[1:])] = true; return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	visit("gone")
	visit("stays")
	h.now = h.now.Add(36 * time.Hour)
	visit("stays")
	h.now = h.now.Add(36 * time.Hour) // "gone" unseen for 72h, "stays" for 36h
	visit("new")
	got := people()
	if len(got) != 2 {
		t.Errorf("%d people kept, want 2 (stays, new)", len(got))
	}
	for _, u := range h.sent["meta"] {
		if u.User.UserID == "gone" && got[u.Enrichment.Identity] {
			t.Error("a person unseen past the TTL is still stored")
		}
		if u.User.UserID == "stays" && !got[u.Enrichment.Identity] {
			t.Error("a person seen within the TTL was forgotten")
		}
	}
}
