package snapchat

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/event"
)

func testConfig() Config {
	c := Config{PixelID: "1ec32188-754e-4be2-8e55-c949a984a39f", AccessTokenEnv: "SNAP_TOKEN", DefaultPhoneRegion: "US"}
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
	wantKeys := []string{"em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id", "client_ip_address", "client_user_agent", "sc_click_id", "sc_cookie1"}
	if !slices.Equal(p.MatchKeys, wantKeys) {
		t.Errorf("match keys = %v, want %v", p.MatchKeys, wantKeys)
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameSignUp, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
			Context: event.Context{PageURL: "https://x.example/", UserAgent: "UA", IP: "203.0.113.1"}, User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		mutate func(*event.Event)
		check  func(t *testing.T, se ServerEvent, err error)
	}{
		{"sign up on the web", func(*event.Event) {}, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.EventName != "SIGN_UP" || se.ActionSource != "WEB" || se.EventSourceURL != "https://x.example/" {
				t.Errorf("got %+v, err %v", se, err)
			}
		}},
		{"crm lead is an offline custom event", func(e *event.Event) { e.Source = event.SourceCRM; e.EventName = event.NameQualifiedLead }, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.ActionSource != "OFFLINE" || se.EventName != "CUSTOM_EVENT_2" || se.EventSourceURL != "" {
				t.Errorf("got %+v, err %v", se, err)
			}
		}},
		{"app is MOBILE_APP", func(e *event.Event) { e.Source = event.SourceApp }, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.ActionSource != "MOBILE_APP" {
				t.Errorf("got %q, err %v", se.ActionSource, err)
			}
		}},
		{"web without url is rejected", func(e *event.Event) { e.Context.PageURL = "" }, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_required_field" {
				t.Errorf("err = %v", err)
			}
		}},
		{"purchase without value is rejected", func(e *event.Event) { e.EventName = event.NamePurchase }, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_required_field" || !strings.Contains(pe.Detail, "PURCHASE") {
				t.Errorf("err = %v", err)
			}
		}},
		{"no identifiers", func(e *event.Event) {
			e.User = event.User{}
			e.Context.IP = ""
		}, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"the _scid cookie alone is enough", func(e *event.Event) {
			e.User = event.User{}
			e.Context.IP = ""
			e.Context.Cookies.Scid = "scid-1"
		}, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.UserData.ScCookie1 != "scid-1" {
				t.Errorf("got %+v, err %v", se.UserData, err)
			}
		}},
		{"national phone uses the region, digits only", func(e *event.Event) {
			e.User.Phone = "0844 412 4653"
			e.User.Address = &event.Address{Country: "GB"}
		}, func(t *testing.T, se ServerEvent, err error) {
			// printf %s 448444124653 | sha256sum
			if len(se.UserData.Ph) != 1 || se.UserData.Ph[0] != "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383" {
				t.Errorf("ph = %v", se.UserData.Ph)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, se ServerEvent, err error) {
			if len(se.UserData.Em) != 1 || se.UserData.Em[0] != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("em = %v (must not be hashed twice)", se.UserData.Em)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := base()
			tt.mutate(ev)
			se, _, err := testConfig().Map(ev)
			tt.check(t, se, err)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantKey string
	}{
		{"pixel", func(c *Config) { c.PixelID = "" }, "pixel_id:"},
		{"pixel with a slash", func(c *Config) { c.PixelID = "a/b" }, "pixel_id:"},
		{"token in file", func(c *Config) { c.AccessTokenEnv = "eyJ secret" }, "access_token_env:"},
		{"batch over 2000", func(c *Config) { c.BatchSize = 2001 }, "batch_size:"},
		{"age over 37 days", func(c *Config) { c.MaxEventAge = 38 * 24 * time.Hour }, "max_event_age:"},
		{"event name lower case", func(c *Config) { c.EventNames = map[string]string{"lead": "lead"} }, "event_names.lead:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
	if err := testConfig().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}
