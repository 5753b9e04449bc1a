package linkedin

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// testConfig is the example with the current month as LinkedIn-Version, so
// that tests against the sandbox (which, like LinkedIn, refuses versions
// older than a year) do not expire with the calendar.
func testConfig() Config {
	c := *Example()
	c.APIVersion = time.Now().UTC().Format("200601")
	c.ApplyDefaults()
	return c
}

// TestMatchKeys: the golden event (its payload is checked by TestConformance
// against testdata/web_purchase.golden.json, whose digest was computed with
// `printf %s john_smith@gmail.com | sha256sum`) reports the identifier
// kinds it carries.
func TestMatchKeys(t *testing.T) {
	t.Parallel()
	p, err := testConfig().Prepare(platformtest.LoadEvent(t, "testdata/web_purchase.event.json"))
	if want := []string{IDTypeEmail, IDTypeLiFatID, "userInfo"}; err != nil || !slices.Equal(p.MatchKeys, want) {
		t.Errorf("match keys = %v (err %v), want %v", p.MatchKeys, err, want)
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
		mutate func(*event.Event)
		check  func(t *testing.T, ce ConversionEvent, err error)
	}{
		{"lead goes to its rule in milliseconds", func(*event.Event) {}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Conversion != "urn:lla:llaPartnerConversion:10000002" || ce.ConversionHappenedAt != 1795168800000 || ce.ConversionValue != nil {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"full URN in config is kept", func(e *event.Event) { e.EventName = event.NameClosedDeal }, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.Conversion != "urn:lla:llaPartnerConversion:777" {
				t.Errorf("got %q, err %v", ce.Conversion, err)
			}
		}},
		{"event without rule is not sent", func(e *event.Event) { e.EventName = event.NamePageView }, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.User.UserIDs[0].IDValue != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("ids = %+v, err %v (must not be hashed twice)", ce.User.UserIDs, err)
			}
		}},
		{"li_fat_id alone is enough and kept as captured", func(e *event.Event) {
			e.User.Email = ""
			e.Context.ClickIDs.LiFatID = "AbC-123"
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || len(ce.User.UserIDs) != 1 || ce.User.UserIDs[0] != (UserID{IDTypeLiFatID, "AbC-123"}) {
				t.Errorf("ids = %+v, err %v", ce.User.UserIDs, err)
			}
		}},
		{"invalid email and no click id is rejected", func(e *event.Event) { e.User.Email = "nope" }, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"first name alone sends no userInfo", func(e *event.Event) { e.User.FirstName = "Ann" }, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.User.UserInfo != nil {
				t.Errorf("userInfo = %+v, err %v", ce.User.UserInfo, err)
			}
		}},
		{"names are plain text, not hashed", func(e *event.Event) { e.User.FirstName, e.User.LastName = " Ann ", "Lee" }, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.User.UserInfo == nil || *ce.User.UserInfo != (UserInfo{FirstName: "Ann", LastName: "Lee"}) {
				t.Errorf("userInfo = %+v, err %v", ce.User.UserInfo, err)
			}
		}},
		{"value needs a currency", func(e *event.Event) {
			v := 10.0
			e.Properties.Value = &v
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.ConversionValue != nil {
				t.Errorf("value = %+v, err %v", ce.ConversionValue, err)
			}
		}},
		{"amount as a decimal string", func(e *event.Event) {
			v := 1234.5
			e.Properties = event.Properties{Value: &v, Currency: "eur"}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.ConversionValue == nil || *ce.ConversionValue != (Money{"EUR", "1234.5"}) {
				t.Errorf("value = %+v, err %v", ce.ConversionValue, err)
			}
		}},
		{"event id over 64 characters", func(e *event.Event) { e.EventID = strings.Repeat("x", 65) }, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "invalid_event_id" {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			c.Conversions[event.NameClosedDeal] = "urn:lla:llaPartnerConversion:777"
			c.Events = append(c.Events, event.NameClosedDeal)
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
		wantKey string // "" means valid
	}{
		{"example is valid", func(*Config) {}, ""},
		{"token in the file", func(c *Config) { c.AccessTokenEnv = "AQX-secret token" }, "access_token_env"},
		{"version format", func(c *Config) { c.APIVersion = "2026-01" }, "api_version"},
		{"no conversions", func(c *Config) { c.Conversions = nil; c.Events = nil }, "conversions"},
		{"unknown event name", func(c *Config) { c.Conversions["order"] = "1" }, "conversions.order"},
		{"bad rule id", func(c *Config) { c.Conversions[event.NameLead] = "urn:li:x:1" }, "conversions.lead"},
		{"event without rule", func(c *Config) { c.Events = append(c.Events, event.NameAddToCart) }, "events"},
		{"batch over 5000", func(c *Config) { c.BatchSize = 5001 }, "batch_size"},
		{"age over 90 days", func(c *Config) { c.MaxEventAge = 91 * 24 * time.Hour }, "max_event_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := *Example()
			c.ApplyDefaults()
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
