package googleads

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// TestGoldenPayload: hand-written rows whose hashes come from sha256sum.
func TestGoldenPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"web_purchase", testConfig(), []string{"gclid", "email", "phone"}},
		{"crm_lead", testConfig(), []string{"email"}},
		{"adjustments/deal_restated", adjustConfig(), []string{"order_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.cfg.Prepare(platformtest.LoadEvent(t, filepath.Join("testdata", tt.name+".event.json")))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", tt.name+".golden.json"))
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
				t.Errorf("match keys %v, want %v", p.MatchKeys, tt.keys)
			}
		})
	}
}

func TestMapAdjustment(t *testing.T) {
	t.Parallel()
	base := func(name string) *event.Event {
		v := 10.0
		return &event.Event{EventID: "e", EventName: name, EventTime: time.Unix(1795168800, 0), Source: event.SourceCRM,
			User:       event.User{Email: "a@b.co", FirstName: "Ann", LastName: "Lee", Address: &event.Address{Street: "1 Main St", Zip: "94025", Country: "us"}},
			Context:    event.Context{UserAgent: "UA"},
			Properties: event.Properties{OrderID: "o-1", Value: &v, Currency: "usd"}}
	}
	tests := []struct {
		name   string
		ev     *event.Event
		mutate func(*event.Event)
		check  func(t *testing.T, a ConversionAdjustment, err error)
	}{
		{"retraction carries no value", base(event.NameSignUp), nil, func(t *testing.T, a ConversionAdjustment, err error) {
			if err != nil || a.AdjustmentType != Retraction || a.RestatementValue != nil || a.OrderID != "o-1" {
				t.Errorf("got %+v, %v", a, err)
			}
		}},
		{"enhancement carries hashed identifiers and a plain address", base(event.NameLead), nil, func(t *testing.T, a ConversionAdjustment, err error) {
			if err != nil || a.AdjustmentType != Enhancement || len(a.UserIdentifiers) != 2 || a.UserAgent != "UA" {
				t.Fatalf("got %+v, %v", a, err)
			}
			ai := a.UserIdentifiers[1].AddressInfo
			if ai == nil || ai.CountryCode != "US" || ai.PostalCode != "94025" || len(ai.HashedStreetAddress) != 64 || len(ai.HashedFirstName) != 64 {
				t.Errorf("address %+v", ai)
			}
		}},
		{"no order id is rejected", base(event.NameClosedDeal), func(e *event.Event) { e.Properties.OrderID = "" }, func(t *testing.T, _ ConversionAdjustment, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_order_id" {
				t.Errorf("err = %v", err)
			}
		}},
		{"restatement without value is rejected", base(event.NameClosedDeal), func(e *event.Event) { e.Properties.Value = nil }, func(t *testing.T, _ ConversionAdjustment, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "missing_value" {
				t.Errorf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.mutate != nil {
				tt.mutate(tt.ev)
			}
			a, _, err := adjustConfig().MapAdjustment(tt.ev)
			tt.check(t, a, err)
		})
	}
}

func TestMapClickRejectsNothingToMatch(t *testing.T) {
	t.Parallel()
	ev := &event.Event{EventID: "e", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0), Source: event.SourceWeb}
	if _, _, err := testConfig().MapClick(ev); err == nil {
		t.Fatal("want no_match_keys")
	} else if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "no_match_keys" {
		t.Fatalf("err = %v", err)
	}
}
