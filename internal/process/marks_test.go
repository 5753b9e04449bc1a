package process

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// apart returns an anonymous id and a user id whose sp.events keys land in
// different partitions of h, so only marks that travel with the merge can
// dedupe across them.
func apart(t *testing.T, h *harness, salt string) (anon, user string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		anon, user = "anon-"+salt+strconv.Itoa(i), "user-"+salt+strconv.Itoa(i)
		if h.partition([]byte(anonKey(anon))) != h.partition([]byte(userKey(user))) {
			return anon, user
		}
	}
	t.Fatal("no ids in different partitions")
	return "", ""
}

func anonKey(a string) string {
	return string(ingest.IdentityKey(&event.Event{User: event.User{AnonymousID: a}}))
}

func userKey(u string) string {
	return string(ingest.IdentityKey(&event.Event{User: event.User{UserID: u}}))
}

func webBuy(id, order, anon string, at time.Time) event.Event {
	return event.Event{EventID: id, EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: at,
		User: event.User{AnonymousID: anon}, Properties: event.Properties{Value: fp(40), OrderID: order}}
}

func signUp(id, anon, user string, at time.Time) event.Event {
	return event.Event{EventID: id, EventName: event.NameSignUp, Source: event.SourceApp, EventTime: at,
		User: event.User{UserID: user, AnonymousID: anon}}
}

func crmBuy(id, order, user string, at time.Time) event.Event {
	return event.Event{EventID: id, EventName: event.NamePurchase, Source: event.SourceCRM, EventTime: at,
		User: event.User{UserID: user}, Properties: event.Properties{Value: fp(40), OrderID: order}}
}

// TestDedupeMarksFollowMerge: marks set for the web visitor's events block
// duplicates that arrive keyed by the user id the visitor was linked to,
// although the two keys live in different partitions; releases find the
// marks where they moved; moving keeps the original set time.
func TestDedupeMarksFollowMerge(t *testing.T) {
	t.Parallel()
	type op struct {
		advance time.Duration
		// ev builds the event to send from the visitor's and user's ids;
		// release instead dead-letters the first event sent with that id.
		ev      func(anon, user string, at time.Time) event.Event
		release string
		want    event.Status // "" means sent to meta
		reason  string
		detail  string // a substring the outcome's detail must hold
	}
	buy := func(id, order string) func(a, u string, at time.Time) event.Event {
		return func(a, _ string, at time.Time) event.Event { return webBuy(id, order, a, at) }
	}
	signup := func(a, u string, at time.Time) event.Event { return signUp("signup", a, u, at) }
	crm := func(id, order string) func(a, u string, at time.Time) event.Event {
		return func(_, u string, at time.Time) event.Event { return crmBuy(id, order, u, at) }
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"order id first seen on the web, again from the CRM under the user id", []op{
			{ev: buy("web-1", "ord-1")},
			{advance: time.Hour, ev: signup},
			{advance: 24 * time.Hour, ev: crm("crm-1", "ord-1"), want: event.StatusDeduplicated, reason: ReasonDuplicateOrderID, detail: "order_id ord-1 of purchase"},
		}},
		{"the same event id resent under the user id", []op{
			{ev: buy("web-1", "")},
			{ev: signup},
			{ev: crm("web-1", ""), want: event.StatusDeduplicated, reason: ReasonDuplicateEventID, detail: "event_id web-1"},
		}},
		{"another order passes", []op{
			{ev: buy("web-1", "ord-1")},
			{ev: signup},
			{ev: crm("crm-1", "ord-2")},
		}},
		{"release after the move frees the order", []op{
			{ev: buy("web-1", "ord-1")},
			{ev: signup},
			{release: "web-1"},
			{ev: crm("crm-1", "ord-1")},
		}},
		{"release after the move by another event keeps the order", []op{
			{ev: buy("web-1", "ord-1")},
			{ev: signup},
			{release: "signup"},
			{ev: crm("crm-1", "ord-1"), want: event.StatusDeduplicated, reason: ReasonDuplicateOrderID, detail: "ord-1"},
		}},
		{"moving keeps the set time: still blocked just inside the window", []op{
			{ev: buy("web-1", "ord-1")},
			{advance: 3 * 24 * time.Hour, ev: signup},
			{advance: 4*24*time.Hour - time.Second, ev: crm("crm-1", "ord-1"), want: event.StatusDeduplicated, reason: ReasonDuplicateOrderID, detail: "ord-1"},
		}},
		{"moving keeps the set time: free once the window from the first send passed", []op{
			{ev: buy("web-1", "ord-1")},
			{advance: 3 * 24 * time.Hour, ev: signup},
			{advance: 4 * 24 * time.Hour, ev: crm("crm-1", "ord-1")},
		}},
		{"a mark expired before the link does not come back", []op{
			{ev: buy("web-1", "ord-1")},
			{advance: 8 * 24 * time.Hour, ev: signup},
			{ev: crm("crm-1", "ord-1")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, metaOnly)
			h.parts = harnessPartitions
			anon, user := apart(t, h, "")
			for i, o := range tt.ops {
				h.now = h.now.Add(o.advance)
				if o.release != "" {
					r, ok := h.first("meta", o.release)
					if !ok {
						t.Fatalf("op %d: %s was never sent", i, o.release)
					}
					h.deadLetter("meta", r)
					continue
				}
				e := o.ev(anon, user, h.now)
				e.Origin = event.Origin{Topic: "events." + string(e.Source), Offset: int64(i)}
				before := len(h.sent["meta"])
				h.send(e)
				sent := len(h.sent["meta"]) > before
				out, _ := h.outcome(e.EventID, "meta")
				switch {
				case o.want == "" && !sent:
					t.Fatalf("op %d: %s not sent; outcome %+v", i, e.EventID, out)
				case o.want != "" && (sent || out.Status != o.want || out.Reason != o.reason || !strings.Contains(out.Detail, o.detail)):
					t.Fatalf("op %d: %s sent %v, outcome %+v; want %s %s naming %q", i, e.EventID, sent, out, o.want, o.reason, o.detail)
				}
			}
		})
	}
}

// first returns the first event sent to dest with that id.
func (h *harness) first(dest, id string) (event.Event, bool) {
	for _, ev := range h.sent[dest] {
		if ev.EventID == id {
			return ev, true
		}
	}
	return event.Event{}, false
}

// marksOf counts, over every partition, the dedupe marks and the person
// index entries that hold key (an event or order id).
func (h *harness) marksOf(id string) (marks, index int) {
	h.t.Helper()
	for p := int32(0); p < harnessPartitions; p++ {
		err := h.part(p).Scan([]byte{prefixDedupe}, []byte{prefixMarkIndex + 1}, func(k, _ []byte) bool {
			if !strings.HasSuffix(string(k), "\x00"+id) {
				return true
			}
			switch k[0] {
			case prefixDedupe:
				marks++
			case prefixMarkIndex:
				index++
			}
			return true
		})
		if err != nil {
			h.t.Fatal(err)
		}
	}
	return marks, index
}

// TestMovedMarksLeaveNothingBehind: after the move the visitor's partition
// holds neither the marks nor their index entries, the user's holds the
// marks once, and once the window has passed the sweep removes them all.
func TestMovedMarksLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { metaOnly(c); c.DedupeWindow = time.Hour })
	h.parts = harnessPartitions
	anon, user := apart(t, h, "")
	h.send(webBuy("web-1", "ord-1", anon, h.now))
	if m, i := h.marksOf("ord-1"); m != 1 || i != 1 {
		t.Fatalf("before the link: %d marks and %d index entries of ord-1, want 1 and 1", m, i)
	}
	h.send(signUp("signup", anon, user, h.now))
	anonPart, userPart := h.partition([]byte(anonKey(anon))), h.partition([]byte(userKey(user)))
	for _, c := range []struct {
		part int32
		want int
	}{{anonPart, 0}, {userPart, 1}} {
		n := 0
		if err := h.part(c.part).Scan([]byte{prefixDedupe}, []byte{prefixDedupe + 1}, func(k, _ []byte) bool {
			if strings.HasSuffix(string(k), "\x00ord-1") {
				n++
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("partition %d holds %d marks of ord-1 after the merge, want %d", c.part, n, c.want)
		}
	}
	if _, i := h.marksOf("ord-1"); i != 0 {
		t.Errorf("%d index entries of ord-1 after moving to a user id (never merged onward), want 0", i)
	}
	// Every partition sweeps when a batch touches it.
	h.now = h.now.Add(2 * time.Hour)
	for p := 0; p < 40; p++ {
		h.send(webBuy("late-"+strconv.Itoa(p), "", "other-"+strconv.Itoa(p), h.now))
	}
	if m, i := h.marksOf("ord-1"); m != 0 || i != 0 {
		t.Errorf("after the window: %d marks and %d index entries of ord-1, want none", m, i)
	}
	if m, i := h.marksOf("web-1"); m != 0 || i != 0 {
		t.Errorf("after the window: %d marks and %d index entries of web-1, want none", m, i)
	}
}

// TestMarkEncoding: a mark names its owner only when indexed, and marks
// written before owners existed still decode.
func TestMarkEncoding(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1_772_000_000_123)
	tests := []struct {
		name, id, owner string
	}{
		{"not indexed", "e-1", ""},
		{"indexed", "e-1", "0123456789abcdef0123456789abcdef"},
		{"empty event id", "", "k"},
		{"long event id", strings.Repeat("x", 300), "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, ok := decodeMark(encodeMark(at, tt.id, tt.owner))
			if !ok || m.at != at.UnixMilli() || m.eventID != tt.id || m.owner != tt.owner {
				t.Errorf("decoded %+v, %v; want at %d id %q owner %q", m, ok, at.UnixMilli(), tt.id, tt.owner)
			}
		})
	}
	// The format before owners: 8 bytes of set time, then the event id.
	old := append([]byte{0, 0, 0x01, 0x9c, 0, 0, 0, 0x2a}, "e-9"...)
	if m, ok := decodeMark(old); !ok || m.at != 0x19c0000002a || m.eventID != "e-9" || m.owner != "" {
		t.Errorf("old mark decoded as %+v, %v", m, ok)
	}
	if _, ok := decodeMark([]byte{markVersion, 0, 0, 0, 0, 0, 0, 0, 1, 9}); ok {
		t.Error("a mark whose event id runs past its end decoded")
	}
}

// TestDedupeAcrossMergesPropertyAgainstModel drives visitors who buy on the
// web, sign up (linking their visitor id to a user id in another
// partition), buy again under either id, get releases and see the clock
// move, and compares every decision with the plain model of the rules over
// one shared set of marks: with marks following the merge, where a key was
// set must not matter.
func TestDedupeAcrossMergesPropertyAgainstModel(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			h := newHarness(t, metaOnly)
			h.parts = harnessPartitions
			type visitor struct {
				anon, user string
				signedUp   bool
			}
			var vs []*visitor
			for i := 0; i < 3; i++ {
				a, u := apart(t, h, "v"+strconv.Itoa(i)+"-")
				vs = append(vs, &visitor{anon: a, user: u})
			}
			model := dedupeModel{window: 7 * 24 * time.Hour, marks: map[string]modelMark{}}
			var sentEvents []event.Event
			for i := 0; i < 120; i++ {
				h.now = h.now.Add(time.Duration(rng.IntN(30)) * time.Hour)
				vi := rng.IntN(len(vs))
				v := vs[vi]
				var e event.Event
				switch r := rng.IntN(10); {
				case r == 0 && len(sentEvents) > 0:
					d := sentEvents[rng.IntN(len(sentEvents))]
					h.deadLetter("meta", d)
					model.release(d)
					continue
				case r == 1 && !v.signedUp:
					e = signUp("signup-"+strconv.Itoa(vi), v.anon, v.user, h.now)
					v.signedUp = true
				default:
					// Ids are the visitor's own, so only marks of one
					// person can match (other people's keys may share a
					// partition by chance, which a model cannot know).
					id := "v" + strconv.Itoa(vi) + "-e" + strconv.Itoa(rng.IntN(5))
					order := ""
					if rng.IntN(2) == 0 {
						order = "v" + strconv.Itoa(vi) + "-o" + strconv.Itoa(rng.IntN(3))
					}
					e = webBuy(id, order, v.anon, h.now)
					if v.signedUp && rng.IntN(2) == 0 {
						e = crmBuy(id, order, v.user, h.now)
					}
				}
				e.Origin = event.Origin{Topic: "events." + string(e.Source), Offset: int64(i)}
				if sent, ok := model.check(t, h, i, e); ok {
					sentEvents = append(sentEvents, sent)
				}
			}
		})
	}
}

// TestDedupeMarksFollowRedirect: a CRM contact that turns out to be a user
// who already claimed its email is redirected to that user (merge with
// Redirect); the contact's marks go along.
func TestDedupeMarksFollowRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, metaOnly)
	h.parts = harnessPartitions
	var contact, user string
	for i := 0; ; i++ {
		contact, user = "crm-"+strconv.Itoa(i), "user-"+strconv.Itoa(i)
		cx := string(ingest.IdentityKey(&event.Event{User: event.User{ExternalID: contact}}))
		if h.partition([]byte(cx)) != h.partition([]byte(userKey(user))) {
			break
		}
	}
	deal := func(id string, u event.User) event.Event {
		return event.Event{EventID: id, EventName: event.NameClosedDeal, Source: event.SourceCRM, EventTime: h.now,
			User: u, Properties: event.Properties{Value: fp(900), OrderID: "deal-7"}}
	}
	su := signUp("signup", "", user, h.now)
	su.User.Email = "pat@example.com"
	h.send(su)
	h.send(deal("deal-a", event.User{ExternalID: contact}))
	h.send(event.Event{EventID: "crm-update", EventName: event.NameIdentify, Source: event.SourceCRM, EventTime: h.now,
		User: event.User{ExternalID: contact, Email: "pat@example.com"}})
	before := len(h.sent["meta"])
	h.send(deal("deal-b", event.User{UserID: user}))
	o, _ := h.outcome("deal-b", "meta")
	if len(h.sent["meta"]) > before || o.Status != event.StatusDeduplicated || o.Reason != ReasonDuplicateOrderID {
		t.Fatalf("the deal again under the user id: outcome %+v, want deduplicated on its order id", o)
	}
}

// TestTakeMarksIsBounded: one merge record carries at most maxMovedMarks
// marks, order-id marks first, then the newest; the rest stay where they
// were set, still indexed, to age out there.
func TestTakeMarksIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, metaOnly)
	pt := h.pt()
	b := &batch{out: kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { p(r, nil) }), now: h.now}
	const orders, events = 300, 300
	key := func(kind string, i int) []byte {
		return []byte(string(prefixDedupe) + "meta\x00" + kind + "\x00" + strconv.Itoa(i))
	}
	for i := 0; i < orders; i++ {
		// Order marks are the oldest, yet go first.
		if err := h.st.setMark(b, pt, key("o", i), nil, h.now.Add(-time.Hour), "ev-o"+strconv.Itoa(i), "S"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < events; i++ {
		if err := h.st.setMark(b, pt, key("e", i), nil, h.now.Add(time.Duration(i)*time.Millisecond-time.Minute), "ev-"+strconv.Itoa(i), "S"); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := h.st.takeMarks(b, pt, "S")
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != maxMovedMarks {
		t.Fatalf("%d marks moved, want %d", len(moved), maxMovedMarks)
	}
	nOrders, oldestEvent := 0, events
	for _, m := range moved {
		if isOrderMark(m.Key) {
			nOrders++
			continue
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(string(m.Key), string(key("e", 0)[:len(key("e", 0))-1])))
		oldestEvent = min(oldestEvent, i)
	}
	if nOrders != orders || oldestEvent != events-(maxMovedMarks-orders) {
		t.Errorf("moved %d order marks and event marks from %d on; want all %d and the newest from %d", nOrders, oldestEvent, orders, events-(maxMovedMarks-orders))
	}
	left := 0
	if err := pt.Scan(markIndexKey("S", nil), append(markIndexKey("S", nil)[:2], 1), func(_, _ []byte) bool { left++; return true }); err != nil {
		t.Fatal(err)
	}
	if want := orders + events - maxMovedMarks; left != want {
		t.Errorf("%d index entries left for S, want %d (the marks that stayed)", left, want)
	}
	for i := 0; i < events-(maxMovedMarks-orders); i++ {
		if _, ok, _ := pt.Get(key("e", i)); !ok {
			t.Fatalf("mark e/%d left out of the merge was deleted", i)
		}
	}
}
