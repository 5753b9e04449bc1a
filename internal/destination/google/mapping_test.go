package google

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// TestGoldenPayload compares mappings with hand-written payloads whose hashes
// were computed with `printf %s value | sha256sum` from Google's rules.
func TestGoldenPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
	}{
		{"web_purchase", []string{"gclid", "email", "phone", "address"}},
		{"app_lead", []string{"gbraid", "phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := testConfig().Prepare(platformtest.LoadEvent(t, "testdata/"+tt.name+".event.json"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("testdata/" + tt.name + ".golden.json")
			if err != nil {
				t.Fatal(err)
			}
			var got, exp any
			_ = json.Unmarshal(p.Payload, &got)
			_ = json.Unmarshal(want, &exp)
			gb, _ := json.MarshalIndent(got, "", "  ")
			eb, _ := json.MarshalIndent(exp, "", "  ")
			if !bytes.Equal(gb, eb) {
				t.Errorf("payload differs from golden:\n got: %s\nwant: %s", gb, eb)
			}
			if !slices.Equal(p.MatchKeys, tt.keys) {
				t.Errorf("match keys = %v, want %v", p.MatchKeys, tt.keys)
			}
		})
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
			User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		cfg    func(*Config)
		mutate func(*event.Event)
		check  func(t *testing.T, e Event, err error)
	}{
		{"crm is OTHER and the event id is the transaction id", nil, func(e *event.Event) { e.Source = event.SourceCRM }, func(t *testing.T, e Event, err error) {
			if err != nil || e.EventSource != "OTHER" || e.TransactionID != "e1" {
				t.Errorf("got %+v, err %v", e, err)
			}
		}},
		{"web with both braids sends wbraid only", nil, func(e *event.Event) { e.Context.ClickIDs.Gbraid, e.Context.ClickIDs.Wbraid = "g", "w" }, func(t *testing.T, e Event, err error) {
			if err != nil || e.AdIdentifiers == nil || *e.AdIdentifiers != (AdIdentifiers{Wbraid: "w"}) {
				t.Errorf("ad identifiers %+v, err %v", e.AdIdentifiers, err)
			}
		}},
		{"no consent on the event, none sent", nil, func(*event.Event) {}, func(t *testing.T, e Event, err error) {
			if err != nil || e.Consent != nil {
				t.Errorf("consent %+v, err %v", e.Consent, err)
			}
		}},
		{"unknown consent value is left unspecified", nil, func(e *event.Event) { e.Consent = &event.Consent{AdUserData: "maybe"} }, func(t *testing.T, e Event, err error) {
			if err != nil || e.Consent != nil {
				t.Errorf("consent %+v, err %v", e.Consent, err)
			}
		}},
		{"incomplete address is not sent", nil, func(e *event.Event) {
			e.User.FirstName = "Ann"
			e.User.Address = &event.Address{Country: "US"}
		}, func(t *testing.T, e Event, err error) {
			if err != nil || len(e.UserData.UserIdentifiers) != 1 {
				t.Errorf("identifiers %+v, err %v", e.UserData, err)
			}
		}},
		{"hashed postal code cannot be sent unhashed, address dropped", nil, func(e *event.Event) {
			e.User.FirstName, e.User.LastName = "Ann", "Lee"
			e.User.Address = &event.Address{Country: "US", Zip: "9d8e4a1f0f8a6b1a7b8e1ad2d9c8b0b3c1e6f7a8d9c0b1a2e3f4a5b6c7d8e9f0"}
		}, func(t *testing.T, e Event, err error) {
			if err != nil || len(e.UserData.UserIdentifiers) != 1 {
				t.Errorf("identifiers %+v, err %v", e.UserData, err)
			}
		}},
		{"nothing to match on is rejected", nil, func(e *event.Event) { e.User.Email = "" }, func(t *testing.T, _ Event, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"event not configured", nil, func(e *event.Event) { e.EventName = event.NamePageView }, func(t *testing.T, _ Event, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"several conversion actions add destination references", func(c *Config) {
			c.ConversionActions.ConversionActions = map[string]string{event.NameLead: "111"}
		}, func(*event.Event) {}, func(t *testing.T, e Event, err error) {
			if err != nil || !slices.Equal(e.DestinationReferences, []string{"ca-111"}) {
				t.Errorf("references %v, err %v", e.DestinationReferences, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			ev := base()
			tt.mutate(ev)
			e, _, err := c.Map(ev)
			tt.check(t, e, err)
		})
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.LoginCustomerID = "5555555555"
	c.ValidateOnly = true
	c.ConversionActions.ConversionActions = map[string]string{event.NameLead: "111"}
	p, err := c.Prepare(platformtest.LoadEvent(t, "testdata/web_purchase.event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Destinations []struct {
			Reference            string `json:"reference"`
			OperatingAccount     account
			LoginAccount         *account
			ProductDestinationID string
		}
		Encoding     string
		ValidateOnly bool
		Events       []json.RawMessage
	}
	if err := json.Unmarshal(c.Body([]destination.Prepared{p, p}), &body); err != nil {
		t.Fatal(err)
	}
	if body.Encoding != "HEX" || !body.ValidateOnly || len(body.Events) != 2 || len(body.Destinations) != 2 {
		t.Fatalf("body %+v", body)
	}
	d := body.Destinations[0]
	if d.ProductDestinationID != "111" || d.Reference != "ca-111" || d.OperatingAccount.AccountID != "1234567890" ||
		d.LoginAccount == nil || d.LoginAccount.AccountID != "5555555555" {
		t.Errorf("destination %+v", d)
	}
}
