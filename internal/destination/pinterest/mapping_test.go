package pinterest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/event"
)

func testConfig() Config {
	c := Config{AdAccountID: "549755885175", AccessTokenEnv: "PINTEREST_TOKEN", DefaultPhoneRegion: "US"}
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
	wantKeys := []string{"em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id", "client_ip_address", "client_user_agent", "click_id"}
	if !slices.Equal(p.MatchKeys, wantKeys) {
		t.Errorf("match keys = %v, want %v", p.MatchKeys, wantKeys)
	}
}

func TestMapping(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
			Context: event.Context{PageURL: "https://x.example/", UserAgent: "UA", IP: "203.0.113.1"}, User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		mutate func(*event.Event)
		check  func(t *testing.T, ce ConversionEvent, err error)
	}{
		{"lead on the web", func(*event.Event) {}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.EventName != "lead" || ce.ActionSource != "web" || ce.EventSourceURL != "https://x.example/" {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"crm is offline", func(e *event.Event) { e.Source = event.SourceCRM }, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.ActionSource != "offline" || ce.EventSourceURL != "" {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"app uses app_action_source and names the app", func(e *event.Event) {
			e.Source = event.SourceApp
			e.Context.App = &event.App{Name: "Shop", Version: "4.2.0", Namespace: "com.example.shop"}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.ActionSource != "app_android" || ce.AppID != "com.example.shop" || ce.AppName != "Shop" || ce.AppVersion != "4.2.0" || ce.EventSourceURL != "" {
				t.Errorf("got %+v, err %v", ce, err)
			}
		}},
		{"closed_deal is not mapped by default", func(e *event.Event) { e.EventName = event.NameClosedDeal }, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"event_id required", func(e *event.Event) { e.EventID = "" }, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_required_field" {
				t.Errorf("err = %v", err)
			}
		}},
		{"ip and user agent suffice without email", func(e *event.Event) { e.User = event.User{} }, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || len(ce.UserData.Em) != 0 {
				t.Errorf("got %+v, err %v", ce.UserData, err)
			}
		}},
		{"phone alone is not enough", func(e *event.Event) {
			e.User = event.User{Phone: "+16505551212"}
			e.Context.IP = ""
		}, func(t *testing.T, _ ConversionEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"gender n hashed", func(e *event.Event) { e.User.Gender = "non-binary" }, func(t *testing.T, ce ConversionEvent, err error) {
			// printf %s n | sha256sum
			if len(ce.UserData.Ge) != 1 || ce.UserData.Ge[0] != "1b16b1df538ba12dc3f97edbb85caa7050d46c148134290feba80f8236c83db9" {
				t.Errorf("ge = %v", ce.UserData.Ge)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if len(ce.UserData.Em) != 1 || ce.UserData.Em[0] != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("em = %v (must not be hashed twice)", ce.UserData.Em)
			}
		}},
		{"denied ads personalization is opt_out", func(e *event.Event) {
			e.Consent = &event.Consent{AdPersonalization: event.ConsentDenied}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || !ce.OptOut {
				t.Errorf("opt_out = %v, err %v", ce.OptOut, err)
			}
		}},
		{"granted or unknown consent is not opt_out", func(e *event.Event) {
			e.Consent = &event.Consent{AdPersonalization: event.ConsentGranted, AdUserData: event.ConsentDenied}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if err != nil || ce.OptOut {
				t.Errorf("opt_out = %v, err %v", ce.OptOut, err)
			}
		}},
		{"value as a decimal string", func(e *event.Event) {
			v := 10.5
			e.Properties = event.Properties{Value: &v, Currency: "eur"}
		}, func(t *testing.T, ce ConversionEvent, err error) {
			if ce.CustomData == nil || ce.CustomData.Value != "10.5" || ce.CustomData.Currency != "EUR" {
				t.Errorf("custom_data = %+v", ce.CustomData)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := base()
			tt.mutate(ev)
			ce, _, err := testConfig().Map(ev)
			tt.check(t, ce, err)
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
		{"ad account", func(c *Config) { c.AdAccountID = "act_1" }, "ad_account_id:"},
		{"token in file", func(c *Config) { c.AccessTokenEnv = "pina_secret value" }, "access_token_env:"},
		{"batch over 1000", func(c *Config) { c.BatchSize = 1001 }, "batch_size:"},
		{"age over 7 days", func(c *Config) { c.MaxEventAge = 8 * 24 * time.Hour }, "max_event_age:"},
		{"unmapped event", func(c *Config) { c.Events = []string{"closed_deal"} }, "events:"},
		{"unknown pinterest event", func(c *Config) { c.EventNames = map[string]string{"closed_deal": "purchase"} }, "event_names.closed_deal:"},
		{"app source", func(c *Config) { c.AppActionSource = "app" }, "app_action_source:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			if err := c.Validate(); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.wantKey)) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
	if err := testConfig().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}
