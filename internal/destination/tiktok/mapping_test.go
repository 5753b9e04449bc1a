package tiktok

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/event"
)

func testConfig() Config {
	c := Config{EventSourceID: "C4PIXEL", AccessTokenEnv: "TIKTOK_TOKEN", DefaultPhoneRegion: "US"}
	c.ApplyDefaults()
	return c
}

// TestMatchKeys: the golden event (whose payload TestConformance compares
// with testdata/web_purchase.golden.json, hashes computed with sha256sum)
// reports every identifier kind it carries, and no values.
func TestMatchKeys(t *testing.T) {
	t.Parallel()
	p, err := testConfig().Prepare(platformtest.LoadEvent(t, "testdata/web_purchase.event.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"email", "phone", "external_id", "ttclid", "ttp", "ip", "user_agent"}; !slices.Equal(p.MatchKeys, want) {
		t.Errorf("match keys = %v, want %v", p.MatchKeys, want)
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
			Context: event.Context{PageURL: "https://x.example/", UserAgent: "UA"}, User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		mutate func(*event.Event)
		check  func(t *testing.T, it Item, err error)
	}{
		{"lead is SubmitForm with page", func(*event.Event) {}, func(t *testing.T, it Item, err error) {
			if err != nil || it.Event != "SubmitForm" || it.Page == nil || it.Page.URL != "https://x.example/" || it.EventTime != 1795168800 {
				t.Errorf("got %+v, err %v", it, err)
			}
		}},
		{"crm has no page", func(e *event.Event) { e.Source = event.SourceCRM; e.EventName = event.NameClosedDeal }, func(t *testing.T, it Item, err error) {
			if err != nil || it.Page != nil || it.Event != "ClosedDeal" {
				t.Errorf("got %+v, err %v", it, err)
			}
		}},
		{"page_view is not sent by default", func(e *event.Event) { e.EventName = event.NamePageView }, func(t *testing.T, _ Item, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, it Item, err error) {
			if err != nil || it.User.Email != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("email = %q, err %v (must not be hashed twice)", it.User.Email, err)
			}
		}},
		{"phone from the address country, E.164", func(e *event.Event) {
			e.User.Phone = "020 7946 0958"
			e.User.Address = &event.Address{Country: "GB"}
		}, func(t *testing.T, it Item, err error) {
			// printf %s +442079460958 | sha256sum
			if it.User.Phone != "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d" {
				t.Errorf("phone = %q", it.User.Phone)
			}
		}},
		{"unnormalizable phone dropped, email kept", func(e *event.Event) { e.User.Phone = "12" }, func(t *testing.T, it Item, err error) {
			if err != nil || it.User.Phone != "" || it.User.Email == "" {
				t.Errorf("got %+v, err %v", it.User, err)
			}
		}},
		{"ttclid alone is enough", func(e *event.Event) {
			e.User = event.User{}
			e.Context.ClickIDs.Ttclid = "E.C.P.x"
		}, func(t *testing.T, it Item, err error) {
			if err != nil || it.User.Ttclid != "E.C.P.x" {
				t.Errorf("got %+v, err %v", it.User, err)
			}
		}},
		{"user agent alone is not enough", func(e *event.Event) { e.User = event.User{} }, func(t *testing.T, _ Item, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"currency upper-cased, content type product", func(e *event.Event) {
			v := 10.0
			e.Properties = event.Properties{Value: &v, Currency: "eur", Contents: []event.Content{{ID: "a", Quantity: 1}}}
		}, func(t *testing.T, it Item, err error) {
			if it.Properties == nil || it.Properties.Currency != "EUR" || it.Properties.ContentType != "product" || it.Properties.Contents[0].ContentID != "a" {
				t.Errorf("properties = %+v", it.Properties)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := base()
			tt.mutate(ev)
			it, _, err := testConfig().Map(ev)
			tt.check(t, it, err)
		})
	}
}

func TestBodyCarriesSourceAndTestCode(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.TestEventCode = `TEST"1`
	c.EventSource = "crm"
	body := c.Body([]destination.Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}})
	var got struct {
		EventSource   string           `json:"event_source"`
		EventSourceID string           `json:"event_source_id"`
		TestEventCode string           `json:"test_event_code"`
		Data          []map[string]int `json:"data"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if len(got.Data) != 2 || got.TestEventCode != `TEST"1` || got.EventSource != "crm" || got.EventSourceID != "C4PIXEL" {
		t.Errorf("body = %s", body)
	}
}
