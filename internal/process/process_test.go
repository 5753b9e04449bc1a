package process

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// journey is a web ad click (fbclid, gclid, fbp) by an anonymous visitor,
// a sign-up in the app that names the user, the visitor and the email, and
// a deal won in the CRM, which knows only its own contact id and the email.
func journey(crmAfter time.Duration) []event.Event {
	return []event.Event{
		{EventID: "web-1", EventName: event.NamePageView, Source: event.SourceWeb, EventTime: t0,
			User: event.User{AnonymousID: "anon-1"},
			Context: event.Context{PageURL: "https://shop.example/?fbclid=IwAR-click&gclid=Cj0-click", UserAgent: "Mozilla/5.0", IP: "203.0.113.9",
				ClickIDs: event.ClickIDs{Fbclid: "IwAR-click", Gclid: "Cj0-click"}, Cookies: event.Cookies{Fbp: "fb.1.1772441000000.42"}}},
		{EventID: "app-1", EventName: event.NameSignUp, Source: event.SourceApp, EventTime: t0.Add(time.Hour),
			User: event.User{UserID: "user-1", AnonymousID: "anon-1", Email: "Ada@Example.com", Phone: "+44 20 7946 0958"}},
		{EventID: "crm-1", EventName: event.NameClosedDeal, Source: event.SourceCRM, EventTime: t0.Add(crmAfter),
			User:       event.User{ExternalID: "crm-9", Email: "ada@example.com", FirstName: "Ada"},
			Properties: event.Properties{Value: fp(4800), Currency: "GBP", OrderID: "deal-77"}},
	}
}

func TestJourneyCarriesEarlierIdentifiers(t *testing.T) {
	t.Parallel()
	wantFbc := "fb.1." + strconv.FormatInt(t0.UnixMilli(), 10) + ".IwAR-click"
	tests := []struct {
		name     string
		crmAfter time.Duration
		wantFbc  string // on the CRM conversion; "" when the fbclid's window has passed
	}{
		{"deal three days later gets the click", 72 * time.Hour, wantFbc},
		{"deal past Meta's 7-day window keeps only the Google click", 8 * 24 * time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			for _, ev := range journey(tt.crmAfter) {
				h.now = ev.EventTime
				h.send(ev)
			}
			signUp, ok := h.last("meta", "app-1")
			if !ok {
				t.Fatalf("sign-up never reached meta; outcomes %+v", h.outcomes)
			}
			if signUp.Context.Cookies.Fbc != wantFbc || signUp.Context.Cookies.Fbp == "" {
				t.Errorf("sign-up fbc %q fbp %q, want fbc %q and the web fbp", signUp.Context.Cookies.Fbc, signUp.Context.Cookies.Fbp, wantFbc)
			}
			deal, ok := h.last("meta", "crm-1")
			if !ok {
				t.Fatalf("deal never reached meta; outcomes %+v", h.outcomes)
			}
			if deal.Context.Cookies.Fbc != tt.wantFbc {
				t.Errorf("deal fbc = %q, want %q", deal.Context.Cookies.Fbc, tt.wantFbc)
			}
			if deal.Context.ClickIDs.Gclid != "Cj0-click" {
				t.Errorf("deal gclid = %q, want the web click's", deal.Context.ClickIDs.Gclid)
			}
			if deal.User.Phone != "+44 20 7946 0958" || deal.User.UserID != "user-1" || deal.User.ExternalID != "crm-9" {
				t.Errorf("deal user = %+v, want the app's phone and user id with the CRM's external id", deal.User)
			}
			en := deal.Enrichment
			if en == nil || en.NewCustomer == nil || !*en.NewCustomer || en.LifetimeValue == nil || *en.LifetimeValue != 4800 || en.RFM == "" {
				t.Errorf("deal enrichment = %+v, want new customer, lifetime value 4800 and an RFM segment", en)
			}
			if en != nil && en.Identity == "" {
				t.Error("deal carries no identity key, so its dedupe keys could never be released")
			}
			// A later purchase of the same person is no longer new.
			h.now = h.now.Add(time.Hour)
			h.send(event.Event{EventID: "web-2", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: h.now,
				User: event.User{UserID: "user-1"}, Properties: event.Properties{Value: fp(200), Currency: "GBP"}})
			p2, ok := h.last("meta", "web-2")
			if !ok || p2.Enrichment == nil || p2.Enrichment.NewCustomer == nil || *p2.Enrichment.NewCustomer || *p2.Enrichment.LifetimeValue != 5000 {
				t.Errorf("second purchase enrichment = %+v, want returning customer worth 5000", p2.Enrichment)
			}
			if p2.User.Email == "" {
				t.Error("second purchase lacks the email learned from the app")
			}
		})
	}
}

// TestAnonymousEventsAfterLinkAreForwarded: once the visitor is linked to
// the user, the visitor's later events are enriched as the user's.
func TestAnonymousEventsAfterLinkAreForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	evs := journey(72 * time.Hour)
	h.send(evs[0], evs[1])
	h.send(event.Event{EventID: "web-3", EventName: event.NameAddToCart, Source: event.SourceWeb, EventTime: t0.Add(2 * time.Hour),
		User: event.User{AnonymousID: "anon-1"}, Context: event.Context{PageURL: "https://shop.example/cart", UserAgent: "Mozilla/5.0"}})
	got, ok := h.last("meta", "web-3")
	if !ok {
		t.Fatal("add_to_cart never routed")
	}
	if got.User.Email != "Ada@Example.com" || got.User.UserID != "user-1" {
		t.Errorf("forwarded event user = %+v, want the user's identifiers", got.User)
	}
	if n := len(h.outcomes); n == 0 {
		t.Fatal("no outcomes")
	}
	routed := 0
	for _, o := range h.outcomes {
		if o.EventID == "web-3" && o.Status == event.StatusRouted {
			routed++
		}
	}
	if routed != 1 {
		t.Errorf("web-3 routed %d times, want once", routed)
	}
}

// TestOneLinkPerIdentifier: a person's events that arrive while the link
// for an identifier is on its way do not each send the link again (in a
// backlog every event of a busy person did); each is routed once.
func TestOneLinkPerIdentifier(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	app := func(id string, at time.Duration) event.Event {
		return event.Event{EventID: id, EventName: event.NameViewContent, Source: event.SourceApp, EventTime: t0.Add(at),
			User: event.User{UserID: "user-9", AnonymousID: "anon-9"}}
	}
	h.send(app("app-1", 0), app("app-2", time.Minute), app("app-3", 2*time.Minute))
	if h.kinds[KindLink] != 1 || h.kinds[KindMerge] != 1 {
		t.Errorf("internal records = %v, want one link and one merge", h.kinds)
	}
	for _, id := range []string{"app-1", "app-2", "app-3"} {
		n := 0
		for _, o := range h.outcomes {
			if o.EventID == id && o.Status == event.StatusRouted {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s routed %d times, want once", id, n)
		}
	}
	h.send(app("app-4", 3*time.Minute))
	if h.kinds[KindLink] != 1 {
		t.Errorf("a later event sent the link again: %v", h.kinds)
	}
}

func TestGoogleClickExclusivity(t *testing.T) {
	t.Parallel()
	valid := func(stored map[string]click) func(string) (click, bool) {
		return func(n string) (click, bool) { c, ok := stored[n]; return c, ok }
	}
	tests := []struct {
		name   string
		src    event.Source
		own    event.ClickIDs
		stored map[string]click
		want   event.ClickIDs
	}{
		{"own gclid wins over own braids", event.SourceWeb, event.ClickIDs{Gclid: "g", Wbraid: "w", Gbraid: "b"}, nil, event.ClickIDs{Gclid: "g"}},
		{"web keeps wbraid of two braids", event.SourceWeb, event.ClickIDs{Wbraid: "w", Gbraid: "b"}, nil, event.ClickIDs{Wbraid: "w"}},
		{"app keeps gbraid of two braids", event.SourceApp, event.ClickIDs{Wbraid: "w", Gbraid: "b"}, nil, event.ClickIDs{Gbraid: "b"}},
		{"own click beats a newer stored one", event.SourceWeb, event.ClickIDs{Wbraid: "w"}, map[string]click{idGclid: {ID: "g", At: 9}}, event.ClickIDs{Wbraid: "w"}},
		{"newest stored click is attached alone", event.SourceCRM, event.ClickIDs{}, map[string]click{idGclid: {ID: "g", At: 1}, idWbraid: {ID: "w", At: 5}, idGbraid: {ID: "b", At: 3}}, event.ClickIDs{Wbraid: "w"}},
		{"tie prefers gclid", event.SourceCRM, event.ClickIDs{}, map[string]click{idGclid: {ID: "g", At: 5}, idGbraid: {ID: "b", At: 5}}, event.ClickIDs{Gclid: "g"}},
		{"nothing stored, nothing set", event.SourceCRM, event.ClickIDs{}, nil, event.ClickIDs{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.own
			attachGoogle(&got, tt.src, valid(tt.stored))
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRoutingRules(t *testing.T) {
	t.Parallel()
	purchaseOver0 := func(ev *event.Event) bool {
		return ev.EventName == event.NamePurchase && ev.Properties.Value != nil && *ev.Properties.Value > 0
	}
	crmLeads := func(ev *event.Event) bool {
		return ev.EventName == event.NameQualifiedLead && ev.Source == event.SourceCRM
	}
	tests := []struct {
		name     string
		in       event.Event
		wantTo   []string
		wantName string // platform event name on the meta record
	}{
		{"purchase with value", event.Event{EventName: event.NamePurchase, Source: event.SourceWeb, Properties: event.Properties{Value: fp(10)}}, []string{"meta"}, "Purchase"},
		{"purchase of zero", event.Event{EventName: event.NamePurchase, Source: event.SourceWeb, Properties: event.Properties{Value: fp(0)}}, nil, ""},
		{"qualified lead from crm", event.Event{EventName: event.NameQualifiedLead, Source: event.SourceCRM, User: event.User{Email: "a@b.example"}}, []string{"meta", "webhook"}, "QualifiedLead"},
		{"qualified lead from web", event.Event{EventName: event.NameQualifiedLead, Source: event.SourceWeb}, nil, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) {
				c.Routes = []Route{
					{Destination: "meta", As: "Purchase", Accepts: purchaseOver0},
					{Destination: "meta", As: "QualifiedLead", Accepts: crmLeads},
					{Destination: "webhook", Accepts: crmLeads},
				}
			})
			ev := tt.in
			ev.EventID, ev.EventTime = "e"+strconv.Itoa(i), t0
			h.send(ev)
			var to []string
			for _, d := range []string{"meta", "webhook"} {
				if len(h.sent[d]) > 0 {
					to = append(to, d)
				}
			}
			if len(to) != len(tt.wantTo) || (len(to) > 0 && to[0] != tt.wantTo[0]) {
				t.Fatalf("sent to %v, want %v", to, tt.wantTo)
			}
			if len(to) == 0 {
				o, _ := h.outcome(ev.EventID, "")
				if o.Status != event.StatusSuppressed || o.Reason != ReasonNoRoute {
					t.Errorf("outcome %+v, want suppressed no_route", o)
				}
				return
			}
			m := h.sent["meta"][0]
			if m.Enrichment == nil || m.Enrichment.PlatformEventName != tt.wantName {
				t.Errorf("meta record enrichment %+v, want platform name %q", m.Enrichment, tt.wantName)
			}
			if len(tt.wantTo) > 1 && h.sent["webhook"][0].Enrichment.PlatformEventName != "" {
				t.Error("a rule without a platform name set one")
			}
		})
	}
}

func TestCorruptRecordIsInvalidAndKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var got []*kgo.Record
	out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { got = append(got, r); p(r, nil) })
	if err := h.st.Handle(context.Background(), []*kgo.Record{{Topic: "sp.events", Value: []byte("{"), Offset: 9}}, out); err != nil {
		t.Fatal(err)
	}
	var o event.Outcome
	dlq := 0
	for _, r := range got {
		switch r.Topic {
		case "sp.outcomes":
			_ = json.Unmarshal(r.Value, &o)
		case "sp.dlq":
			dlq++
		}
	}
	if o.Status != event.StatusInvalid || o.Reason != "corrupt_record" || dlq != 1 {
		t.Errorf("outcome %+v, %d dead letters; want invalid corrupt_record and one dead letter", o, dlq)
	}
}

// TestIdentityConvergesInAnyOrder: whatever order the click, the sign-up
// and the CRM deal arrive in, the person's next purchase carries what all
// three taught: the click ids, the app's phone, the CRM contact id, and the
// value of both conversions.
func TestIdentityConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	evs := journey(72 * time.Hour)
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.now = t0.Add(96 * time.Hour)
			for _, i := range order {
				h.send(evs[i])
			}
			h.send(event.Event{EventID: "buy-2", EventName: event.NamePurchase, Source: event.SourceWeb, EventTime: t0.Add(96 * time.Hour),
				User: event.User{UserID: "user-1"}, Properties: event.Properties{Value: fp(100), Currency: "GBP"}})
			got, ok := h.last("meta", "buy-2")
			if !ok {
				t.Fatalf("purchase never routed; outcomes %+v", h.outcomes)
			}
			wantFbc := "fb.1." + strconv.FormatInt(t0.UnixMilli(), 10) + ".IwAR-click"
			if got.Context.Cookies.Fbc != wantFbc || got.Context.ClickIDs.Gclid != "Cj0-click" {
				t.Errorf("fbc %q gclid %q, want the web click's", got.Context.Cookies.Fbc, got.Context.ClickIDs.Gclid)
			}
			if got.User.Phone == "" || got.User.ExternalID != "crm-9" || got.User.Email == "" {
				t.Errorf("user %+v, want the app's phone, the CRM contact id and the email", got.User)
			}
			en := got.Enrichment
			if en == nil || en.LifetimeValue == nil || *en.LifetimeValue != 4900 || en.NewCustomer == nil || *en.NewCustomer {
				t.Errorf("enrichment %+v, want a returning customer worth 4900", en)
			}
			for _, id := range []string{"web-1", "app-1", "crm-1"} {
				if o, _ := h.outcome(id, ""); o.Status != event.StatusRouted {
					t.Errorf("%s: outcome %+v, want routed once processed", id, o)
				}
			}
		})
	}
}
