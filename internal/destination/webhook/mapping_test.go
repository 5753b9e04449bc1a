package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

func testConfig() Config {
	c := Config{URL: "https://hooks.example.com/in", SecretEnv: "WEBHOOK_SECRET"}
	c.ApplyDefaults()
	return c
}

// TestGoldenPayload compares the mapping of a full web purchase with a
// hand-written payload whose hashes were computed with sha256sum from Meta's
// normalization rules (jane.doe@example.com, 442079460958 — the UK number
// completed from the address country —, jane, obrien, crm-7781, london,
// sw1a1aa, gb).
func TestGoldenPayload(t *testing.T) {
	t.Parallel()
	ev := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
	p, err := testConfig().Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/web_purchase.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(p.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.MarshalIndent(got, "", "  ")
	eb, _ := json.MarshalIndent(exp, "", "  ")
	if !bytes.Equal(gb, eb) {
		t.Errorf("payload differs from golden:\n got: %s\nwant: %s", gb, eb)
	}
	wantKeys := []string{"email_sha256", "phone_sha256", "first_name_sha256", "last_name_sha256", "external_id_sha256",
		"city_sha256", "zip_sha256", "country_sha256", "gclid", "fbclid", "fbp", "ttp"}
	if !slices.Equal(p.MatchKeys, wantKeys) {
		t.Errorf("match keys = %v, want %v", p.MatchKeys, wantKeys)
	}
	if p.Event != ev {
		t.Error("Prepared.Event is not the input event")
	}
}

// TestNoRawPII plants distinctive personal data in every field that holds
// some and checks that none of it reaches the request body.
func TestNoRawPII(t *testing.T) {
	t.Parallel()
	ev := &event.Event{
		EventID: "pii-1", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0), Source: event.SourceWeb,
		User: event.User{
			UserID: "Zebulon-UID-9931", Email: "Zebulon.Quartermaine@Example.org", Phone: "+1 (415) 555-0199",
			FirstName: "Zebulon", LastName: "Quartermaine", Gender: "m", DateOfBirth: "1971-07-19",
			Address: &event.Address{Street: "77 Xylophone Lane", City: "Quuxville", State: "Vermont", Zip: "05401-9999", Country: "US"},
		},
		Context: event.Context{IP: "198.51.100.77", UserAgent: "ZebBrowser/13.37 (Quartermaine OS)",
			PageURL: "https://shop.example/thanks?email=Zebulon.Quartermaine%40Example.org", Referrer: "https://ref.example/?name=Zebulon"},
	}
	c := testConfig()
	p, err := c.Prepare(ev)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ToLower(string(c.Body([]destination.Prepared{p})))
	for _, planted := range []string{"zebulon", "quartermaine", "555-0199", "5550199", "xylophone", "quuxville", "vermont",
		"05401", "1971", "198.51.100.77", "zebbrowser", "example.org", "@", "%40"} {
		if strings.Contains(body, planted) {
			t.Errorf("body contains %q: %s", planted, body)
		}
	}
	var decoded struct {
		Events []struct {
			User map[string]string `json:"user"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &decoded); err != nil || len(decoded.Events) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	if n := len(decoded.Events[0].User); n != 8 {
		t.Errorf("user has %d hashed keys, want all 8: %v", n, decoded.Events[0].User)
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameLead, EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("x", -5*3600)),
			Source: event.SourceCRM, User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		mutate func(*Config, *event.Event)
		check  func(t *testing.T, e Event, err error)
	}{
		{"time is UTC RFC 3339", func(*Config, *event.Event) {}, func(t *testing.T, e Event, err error) {
			if err != nil || e.EventTime != "2026-11-20T15:00:00Z" || e.EventName != "lead" || e.Source != "crm" {
				t.Errorf("got %+v, err %v", e, err)
			}
		}},
		{"no identifier at all is still sent", func(_ *Config, e *event.Event) { e.User = event.User{} }, func(t *testing.T, e Event, err error) {
			if err != nil || e.User != (User{}) {
				t.Errorf("got %+v, err %v", e.User, err)
			}
		}},
		{"identify is not sent by default", func(_ *Config, e *event.Event) { e.EventName = event.NameIdentify }, func(t *testing.T, _ Event, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"events limits what is sent", func(c *Config, _ *event.Event) { c.Events = []string{event.NamePurchase} }, func(t *testing.T, _ Event, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"already hashed email passes through", func(_ *Config, e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, e Event, err error) {
			if err != nil || e.User.EmailSHA256 != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("email_sha256 = %q (must not be hashed twice), err %v", e.User.EmailSHA256, err)
			}
		}},
		{"invalid email is dropped", func(_ *Config, e *event.Event) { e.User.Email = "not-an-email" }, func(t *testing.T, e Event, err error) {
			if err != nil || e.User.EmailSHA256 != "" {
				t.Errorf("email_sha256 = %q, err %v", e.User.EmailSHA256, err)
			}
		}},
		{"phone without country code and no address is dropped", func(_ *Config, e *event.Event) { e.User.Phone = "020 7946 0958" }, func(t *testing.T, e Event, err error) {
			if err != nil || e.User.PhoneSHA256 != "" {
				t.Errorf("phone_sha256 = %q, err %v", e.User.PhoneSHA256, err)
			}
		}},
		{"user_id stands in for external_id", func(_ *Config, e *event.Event) { e.User.UserID = "u-42" }, func(t *testing.T, e Event, err error) {
			// printf u-42 | sha256sum
			if e.User.ExternalIDSHA256 != "16ec525b74b75626eb93ecad8acc749885fcf4e83c95b139342769a4ab1828a3" {
				t.Errorf("external_id_sha256 = %q", e.User.ExternalIDSHA256)
			}
		}},
		{"a first purchase says new_customer true", func(_ *Config, e *event.Event) {
			yes := true
			e.Enrichment = &event.Enrichment{Identity: "k", NewCustomer: &yes}
		}, func(t *testing.T, e Event, err error) {
			if err != nil || e.Customer == nil || e.Customer.NewCustomer == nil || !*e.Customer.NewCustomer || e.Customer.LifetimeValue != nil || e.Customer.RFM != "" {
				t.Errorf("customer %+v, err %v; want new_customer true alone", e.Customer, err)
			}
		}},
		{"no properties, cookies, click ids, consent or value signals: keys omitted", func(_ *Config, e *event.Event) {
			e.Enrichment = &event.Enrichment{Identity: "k"}
		}, func(t *testing.T, e Event, err error) {
			b, _ := json.Marshal(e)
			for _, k := range []string{"properties", "cookies", "click_ids", "consent", "customer"} {
				if bytes.Contains(b, []byte(`"`+k+`"`)) {
					t.Errorf("%s present in %s", k, b)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ev := testConfig(), base()
			tt.mutate(&c, ev)
			e, _, err := c.Map(ev)
			tt.check(t, e, err)
		})
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []destination.Prepared
		want string
	}{
		{"empty", nil, `{"events":[]}`},
		{"one", []destination.Prepared{{Payload: []byte(`{"a":1}`)}}, `{"events":[{"a":1}]}`},
		{"two in order", []destination.Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}}, `{"events":[{"a":1},{"b":2}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(testConfig().Body(tt.in)); got != tt.want {
				t.Errorf("Body = %s, want %s", got, tt.want)
			}
		})
	}
}
