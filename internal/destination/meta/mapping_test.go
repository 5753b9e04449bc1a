package meta

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
	c := Config{PixelID: "1", AccessTokenEnv: "META_TOKEN", DefaultPhoneRegion: "US"}
	c.ApplyDefaults()
	return c
}

// TestGoldenPayload compares the mapping of a full web purchase with a
// hand-written payload whose hashes were computed with sha256sum from Meta's
// normalization rules (and include Meta's own documented fixtures for
// John_Smith@gmail.com and (650)555-1212).
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
	_ = json.Unmarshal(p.Payload, &got)
	_ = json.Unmarshal(want, &exp)
	gb, _ := json.MarshalIndent(got, "", "  ")
	eb, _ := json.MarshalIndent(exp, "", "  ")
	if !bytes.Equal(gb, eb) {
		t.Errorf("payload differs from golden:\n got: %s\nwant: %s", gb, eb)
	}
	wantKeys := []string{"em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id", "client_ip_address", "client_user_agent", "fbc", "fbp"}
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
		check  func(t *testing.T, se ServerEvent, err error)
	}{
		{"lead maps to Lead with website source", func(*event.Event) {}, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.EventName != "Lead" || se.ActionSource != "website" {
				t.Errorf("got %q/%q, err %v", se.EventName, se.ActionSource, err)
			}
		}},
		{"crm is system_generated with custom name", func(e *event.Event) { e.Source = event.SourceCRM; e.EventName = event.NameClosedDeal }, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.ActionSource != "system_generated" || se.EventName != "ClosedDeal" || se.EventSourceURL != "" {
				t.Errorf("got %+v, err %v", se, err)
			}
		}},
		{"app carries app_data", func(e *event.Event) {
			e.Source = event.SourceApp
			e.Context.App = &event.App{Namespace: "com.x", Version: "1.2"}
		}, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || se.ActionSource != "app" || se.AppData == nil || len(se.AppData.Extinfo) != 16 || se.AppData.Extinfo[1] != "com.x" {
				t.Errorf("got %+v, err %v", se.AppData, err)
			}
		}},
		{"already hashed email passes through", func(e *event.Event) {
			e.User.Email = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
		}, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || len(se.UserData.Em) != 1 || se.UserData.Em[0] != "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" {
				t.Errorf("em = %v, err %v (must not be hashed twice)", se.UserData.Em, err)
			}
		}},
		{"invalid email is dropped, not sent", func(e *event.Event) { e.User.Email = "not-an-email" }, func(t *testing.T, se ServerEvent, err error) {
			if err != nil || len(se.UserData.Em) != 0 {
				t.Errorf("em = %v, err %v", se.UserData.Em, err)
			}
		}},
		{"fbc cookie wins over fbclid", func(e *event.Event) {
			e.Context.Cookies.Fbc = "fb.1.1700000000000.Cookie"
			e.Context.ClickIDs.Fbclid = "FromURL"
		}, func(t *testing.T, se ServerEvent, err error) {
			if se.UserData.Fbc != "fb.1.1700000000000.Cookie" {
				t.Errorf("fbc = %q", se.UserData.Fbc)
			}
		}},
		{"fbclid case is kept", func(e *event.Event) { e.Context.ClickIDs.Fbclid = "AbC_dEf" }, func(t *testing.T, se ServerEvent, err error) {
			if !strings.HasSuffix(se.UserData.Fbc, ".AbC_dEf") || !strings.HasPrefix(se.UserData.Fbc, "fb.1.1795168800000.") {
				t.Errorf("fbc = %q", se.UserData.Fbc)
			}
		}},
		{"web without user agent is rejected", func(e *event.Event) { e.Context.UserAgent = "" }, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_required_field" {
				t.Errorf("err = %v", err)
			}
		}},
		{"no identifiers at all is rejected", func(e *event.Event) {
			e.Source = event.SourceCRM
			e.User = event.User{}
			e.Context = event.Context{}
		}, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
				t.Errorf("err = %v", err)
			}
		}},
		{"identify is not sent", func(e *event.Event) { e.EventName = event.NameIdentify }, func(t *testing.T, _ ServerEvent, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "event_not_mapped" {
				t.Errorf("err = %v", err)
			}
		}},
		{"currency lower-cased, no contents no num_items", func(e *event.Event) {
			v := 10.0
			e.Properties = event.Properties{Value: &v, Currency: "EUR"}
		}, func(t *testing.T, se ServerEvent, err error) {
			if se.CustomData == nil || se.CustomData.Currency != "eur" || se.CustomData.NumItems != 0 || *se.CustomData.Value != 10 {
				t.Errorf("custom_data = %+v", se.CustomData)
			}
		}},
		{"phone region from the address country", func(e *event.Event) {
			e.User.Phone = "020 7946 0958"
			e.User.Address = &event.Address{Country: "GB"}
		}, func(t *testing.T, se ServerEvent, err error) {
			// 442079460958, hashed (sha256sum).
			if len(se.UserData.Ph) != 1 || se.UserData.Ph[0] != "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823" {
				t.Errorf("ph = %v", se.UserData.Ph)
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

func TestBodyCarriesTestEventCode(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.TestEventCode = `TEST"1`
	body := c.Body([]destination.Prepared{{Payload: []byte(`{"a":1}`)}, {Payload: []byte(`{"b":2}`)}})
	var got struct {
		Data          []map[string]int `json:"data"`
		TestEventCode string           `json:"test_event_code"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if len(got.Data) != 2 || got.TestEventCode != `TEST"1` {
		t.Errorf("body = %s", body)
	}
}
