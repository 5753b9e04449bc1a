package microsoft

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

func uetConfig() Config {
	c := *Example()
	c.ApplyDefaults()
	return c
}

func offlineConfig() Config {
	c := Config{API: APIOffline, AccessTokenEnv: "MS_OAUTH", DeveloperTokenEnv: "MS_DEV", CustomerID: "1111", AccountID: "2222",
		EventNames: map[string]string{event.NameClosedDeal: "Closed deal", event.NameQualifiedLead: "Qualified lead"}}
	c.ApplyDefaults()
	return c
}

// TestMatchKeys: the golden events (their payloads are checked by
// TestConformance against the goldens in testdata/uet and testdata/offline;
// the UET digests were computed with `printf %s VALUE | sha256sum` over
// john_smith@gmail.com and +16505551212) report the identifier kinds they
// carry.
func TestMatchKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		path string
		want []string
	}{
		{"uet", uetConfig(), "testdata/uet/web_purchase.event.json", []string{"msclkid", "em", "ph", "externalId", "clientIpAddress", "clientUserAgent"}},
		{"offline", offlineConfig(), "testdata/offline/crm_closed_deal.event.json", []string{"msclkid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.cfg.Prepare(platformtest.LoadEvent(t, tt.path))
			if err != nil || !slices.Equal(p.MatchKeys, tt.want) {
				t.Errorf("match keys = %v (err %v), want %v", p.MatchKeys, err, tt.want)
			}
		})
	}
}

func TestMapUET(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "e1", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
			User: event.User{Email: "a@b.co"}}
	}
	tests := []struct {
		name   string
		mutate func(*event.Event)
		cfg    func(*Config)
		check  func(t *testing.T, ue UETEvent, err error)
	}{
		{"lead is a custom event in seconds", func(*event.Event) {}, nil, func(t *testing.T, ue UETEvent, err error) {
			if err != nil || ue.EventType != "custom" || ue.EventName != "lead" || ue.EventTime != 1795168800 || ue.AdStorageConsent != "" {
				t.Errorf("got %+v, err %v", ue, err)
			}
		}},
		{"page view is a pageLoad without name", func(e *event.Event) { e.EventName = event.NamePageView }, nil, func(t *testing.T, ue UETEvent, err error) {
			if err != nil || ue.EventType != "pageLoad" || ue.EventName != "" {
				t.Errorf("got %+v, err %v", ue, err)
			}
		}},
		{"event_names renames", func(*event.Event) {}, func(c *Config) { c.EventNames = map[string]string{event.NameLead: "submit_lead_form"} }, func(t *testing.T, ue UETEvent, err error) {
			if err != nil || ue.EventName != "submit_lead_form" {
				t.Errorf("name = %q, err %v", ue.EventName, err)
			}
		}},
		{"consent denied is D", func(e *event.Event) { e.Consent = &event.Consent{AdUserData: event.ConsentDenied} }, nil, func(t *testing.T, ue UETEvent, err error) {
			if ue.AdStorageConsent != "D" {
				t.Errorf("adStorageConsent = %q", ue.AdStorageConsent)
			}
		}},
		{"phone E.164 hashed from address region", func(e *event.Event) {
			e.User.Phone = "020 7946 0958"
			e.User.Address = &event.Address{Country: "gb"}
		}, nil, func(t *testing.T, ue UETEvent, err error) {
			// printf %s +442079460958 | sha256sum
			if ue.UserData.Ph != "f0bf0228144d9fe2bdf1da2d8ca698f17bf1410ee688b075c27062e47b6f0b6d" {
				t.Errorf("ph = %q, err %v", ue.UserData.Ph, err)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, nil, func(t *testing.T, ue UETEvent, err error) {
			if ue.UserData.Em != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("em = %q (must not be hashed twice)", ue.UserData.Em)
			}
		}},
		{"IP alone is no identifier", func(e *event.Event) { e.User = event.User{}; e.Context.IP = "203.0.113.7" }, nil, func(t *testing.T, _ UETEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"value needs currency, order id still sent", func(e *event.Event) {
			v := 3.0
			e.Properties = event.Properties{Value: &v, OrderID: "o1"}
		}, nil, func(t *testing.T, ue UETEvent, err error) {
			if err != nil || ue.CustomData == nil || ue.CustomData.Value != nil || ue.CustomData.TransactionID != "o1" {
				t.Errorf("customData = %+v, err %v", ue.CustomData, err)
			}
		}},
		{"identify is not sent", func(e *event.Event) { e.EventName = event.NameIdentify }, nil, func(t *testing.T, _ UETEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := uetConfig()
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			ev := base()
			tt.mutate(ev)
			ue, _, err := c.MapUET(ev)
			tt.check(t, ue, err)
		})
	}
}

func TestMapOffline(t *testing.T) {
	t.Parallel()
	base := func() *event.Event {
		return &event.Event{EventID: "d1", EventName: event.NameQualifiedLead, EventTime: time.Date(2026, 11, 20, 10, 0, 0, 999e6, time.FixedZone("CET", 3600)),
			Source: event.SourceCRM, Context: event.Context{ClickIDs: event.ClickIDs{Msclkid: "abc"}}}
	}
	tests := []struct {
		name       string
		mutate     func(*event.Event)
		want       OfflineConversion
		wantReason string
	}{
		{"goal name and UTC time to the second", func(*event.Event) {}, OfflineConversion{MicrosoftClickID: "abc", ConversionName: "Qualified lead", ConversionTime: "2026-11-20T09:00:00Z"}, ""},
		{"value with currency", func(e *event.Event) {
			v := 10.5
			e.Properties = event.Properties{Value: &v, Currency: "usd"}
		}, OfflineConversion{MicrosoftClickID: "abc", ConversionName: "Qualified lead", ConversionTime: "2026-11-20T09:00:00Z", ConversionValue: func() *float64 { v := 10.5; return &v }(), ConversionCurrencyCode: "USD"}, ""},
		{"no click id", func(e *event.Event) { e.Context.ClickIDs.Msclkid = "" }, OfflineConversion{}, "no_click_id"},
		{"event without goal", func(e *event.Event) { e.EventName = event.NamePurchase }, OfflineConversion{}, "event_not_mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := base()
			tt.mutate(ev)
			got, err := offlineConfig().MapOffline(ev)
			if tt.wantReason != "" {
				if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != tt.wantReason {
					t.Fatalf("err = %v, want %s", err, tt.wantReason)
				}
				return
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if err != nil || !bytes.Equal(gb, wb) {
				t.Errorf("got %s (err %v), want %s", gb, err, wb)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    func() Config
		mutate  func(*Config)
		wantKey string
	}{
		{"uet example", uetConfig, func(*Config) {}, ""},
		{"offline example", offlineConfig, func(*Config) {}, ""},
		{"unknown api", uetConfig, func(c *Config) { c.API = "bulk" }, "api"},
		{"uet without tag", uetConfig, func(c *Config) { c.TagID = "" }, "tag_id"},
		{"uet with offline key", uetConfig, func(c *Config) { c.CustomerID = "1" }, "customer_id"},
		{"uet age over 7 days", uetConfig, func(c *Config) { c.MaxEventAge = 8 * 24 * time.Hour }, "max_event_age"},
		{"offline without developer token", offlineConfig, func(c *Config) { c.DeveloperTokenEnv = "" }, "developer_token_env"},
		{"offline token in file", offlineConfig, func(c *Config) { c.AccessTokenEnv = "EwB secret" }, "access_token_env"},
		{"offline without account", offlineConfig, func(c *Config) { c.AccountID = "" }, "account_id"},
		{"offline event without goal", offlineConfig, func(c *Config) { c.Events = append(c.Events, event.NamePurchase) }, "events"},
		{"offline with tag", offlineConfig, func(c *Config) { c.TagID = "1" }, "tag_id"},
		{"offline 90 days is fine", offlineConfig, func(c *Config) { c.MaxEventAge = 90 * 24 * time.Hour }, ""},
		{"offline goal name too long", offlineConfig, func(c *Config) { c.EventNames[event.NameClosedDeal] = strings.Repeat("x", 101) }, "event_names.closed_deal"},
		{"batch over 1000", uetConfig, func(c *Config) { c.BatchSize = 1001 }, "batch_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.base()
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

func TestSandboxSwitchesOfflineEndpoint(t *testing.T) {
	t.Parallel()
	c := Config{API: APIOffline, Sandbox: true}
	c.ApplyDefaults()
	if c.Endpoint != SandboxCampaignEndpoint {
		t.Errorf("endpoint = %q, want Microsoft's sandbox", c.Endpoint)
	}
}
