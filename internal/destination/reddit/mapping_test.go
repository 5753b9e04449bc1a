package reddit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

func testConfig() Config {
	c := *Example()
	c.ApplyDefaults()
	return c
}

// TestMatchKeys: the golden event (its payload is checked by TestConformance
// against testdata/web_purchase.golden.json, whose digests were computed
// with `printf %s VALUE | sha256sum` over john_smith@gmail.com,
// +16505551212, u-42 and 203.0.113.7) reports the identifier kinds it
// carries.
func TestMatchKeys(t *testing.T) {
	t.Parallel()
	p, err := testConfig().Prepare(platformtest.LoadEvent(t, "testdata/web_purchase.event.json"))
	if want := []string{"click_id", "email", "phone_number", "external_id", "ip_address", "user_agent"}; err != nil || !slices.Equal(p.MatchKeys, want) {
		t.Errorf("match keys = %v (err %v), want %v", p.MatchKeys, err, want)
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
		cfg    func(*Config)
		check  func(t *testing.T, ce ConversionEvent, err error)
	}{
		{"lead in milliseconds, website", func(*event.Event) {}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Type != (EventType{TrackingType: TypeLead}) || ce.EventAt != 1795168800000 || ce.ActionSource != "WEBSITE" || ce.Metadata.ConversionID != "e1" {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"crm closed deal is a custom OTHER event", func(e *event.Event) { e.Source = event.SourceCRM; e.EventName = event.NameClosedDeal }, nil, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Type != (EventType{TypeCustom, "closed_deal"}) || ce.ActionSource != "OTHER" || ce.EventSourceURL != "" {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"event_types override to a custom name", func(e *event.Event) { e.EventName = event.NameCheckout }, func(c *Config) {
			c.EventTypes = map[string]string{event.NameCheckout: "InitiateCheckout"}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Type != (EventType{TypeCustom, "InitiateCheckout"}) {
				t.Errorf("type = %+v, err %v", ce.Type, err)
			}
		}},
		{"event_types override to a standard type", func(e *event.Event) { e.EventName = event.NameQualifiedLead }, func(c *Config) {
			c.EventTypes = map[string]string{event.NameQualifiedLead: TypeLead}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Type != (EventType{TrackingType: TypeLead}) {
				t.Errorf("type = %+v, err %v", ce.Type, err)
			}
		}},
		{"ip hashed, user agent not", func(e *event.Event) { e.Context.IP = "203.0.113.7" }, nil, func(t *testing.T, ce ConversionEvent, err error) {
			// printf %s 203.0.113.7 | sha256sum
			if err != nil || ce.User.IPAddress != "fec52565aa0cf18f57d7cf5b3ac728503b8992d2d6f7d46da1d1201090902b02" || ce.User.UserAgent != "UA" {
				t.Errorf("user = %+v, err %v", ce.User, err)
			}
		}},
		{"phone region from the address", func(e *event.Event) {
			e.User.Phone = "020 7946 0958"
			e.User.Address = &event.Address{Country: "GB"}
		}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			// printf %s +442079460958 | sha256sum
			if ce.User.PhoneNumber != "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d" {
				t.Errorf("phone = %q, err %v", ce.User.PhoneNumber, err)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.User.Email != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("email = %q, err %v (must not be hashed twice)", ce.User.Email, err)
			}
		}},
		{"user agent alone is not a match key", func(e *event.Event) { e.User = event.User{} }, nil, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"click id alone is enough", func(e *event.Event) { e.User = event.User{}; e.Context.ClickIDs.RdtCid = "cid" }, nil, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.ClickID != "cid" {
				t.Errorf("click_id = %q, err %v", ce.ClickID, err)
			}
		}},
		{"page visit takes no value", func(e *event.Event) {
			e.EventName = event.NamePageView
			v := 5.0
			e.Properties = event.Properties{Value: &v, Currency: "EUR", Contents: []event.Content{{ID: "a", Quantity: 2}}}
		}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			m := ce.Metadata
			if err != nil || m.Value != nil || m.Currency != "" || m.ItemCount != 0 || len(m.Products) != 1 {
				t.Errorf("metadata = %+v, err %v", m, err)
			}
		}},
		{"lead takes value but no item count", func(e *event.Event) {
			v := 5.0
			e.Properties = event.Properties{Value: &v, Currency: "eur", Contents: []event.Content{{ID: "a", Quantity: 2}}}
		}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			m := ce.Metadata
			if err != nil || m.Value == nil || *m.Value != 5 || m.Currency != "EUR" || m.ItemCount != 0 {
				t.Errorf("metadata = %+v, err %v", m, err)
			}
		}},
		{"page URL without query, fragment or user info", func(e *event.Event) {
			e.Context.PageURL = "https://bob:pw@shop.example/thanks?email=jane%40example.com#top"
		}, nil, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.EventSourceURL != "https://shop.example/thanks" {
				t.Errorf("event_source_url = %q, err %v", ce.EventSourceURL, err)
			}
		}},
		{"identify is not sent", func(e *event.Event) { e.EventName = event.NameIdentify }, nil, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
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
			ce, _, err := c.Map(ev)
			tt.check(t, ce, err)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantKey string
	}{
		{"example is valid", func(*Config) {}, ""},
		{"no pixel", func(c *Config) { c.PixelID = "" }, "pixel_id"},
		{"token in the file", func(c *Config) { c.AccessTokenEnv = "eyJ secret" }, "access_token_env"},
		{"batch over 1000", func(c *Config) { c.BatchSize = 1001 }, "batch_size"},
		{"age over 7 days", func(c *Config) { c.MaxEventAge = 8 * 24 * time.Hour }, "max_event_age"},
		{"unknown event type key", func(c *Config) { c.EventTypes = map[string]string{"order": "PURCHASE"} }, "event_types.order"},
		{"bare CUSTOM", func(c *Config) { c.EventTypes = map[string]string{event.NameLead: TypeCustom} }, "event_types.lead"},
		{"region lower case", func(c *Config) { c.DefaultPhoneRegion = "us" }, "default_phone_region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantKey+":") {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
}

func TestBodyCarriesTestID(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.TestID = `t2_"x`
	var got struct {
		Data struct {
			TestID string           `json:"test_id"`
			Events []map[string]int `json:"events"`
		} `json:"data"`
	}
	body := c.Body([]destination.Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}})
	if err := json.Unmarshal(body, &got); err != nil || got.Data.TestID != `t2_"x` || len(got.Data.Events) != 2 {
		t.Errorf("body = %s (err %v)", body, err)
	}
	c.TestID = ""
	if body := c.Body(nil); bytes.Contains(body, []byte("test_id")) {
		t.Errorf("body without test_id = %s", body)
	}
}
