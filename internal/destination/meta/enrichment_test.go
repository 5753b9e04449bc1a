package meta

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestEnrichmentFlags: what the process stage asks for reaches the payload:
// a routed platform event name, and Limited Data Use with Meta's
// "geolocate" country and state.
func TestEnrichmentFlags(t *testing.T) {
	t.Parallel()
	c := testConfig()
	base := event.Event{EventID: "e", EventName: event.NameClosedDeal, Source: event.SourceCRM, EventTime: time.Now(), User: event.User{Email: "a@b.example"}}
	tests := []struct {
		name     string
		en       *event.Enrichment
		wantName string
		wantLDU  string // the JSON of the three data processing fields, "" for absent
	}{
		{"no enrichment", nil, c.MetaEventName(event.NameClosedDeal), ""},
		{"routed name", &event.Enrichment{PlatformEventName: "Purchase"}, "Purchase", ""},
		{"limited data use", &event.Enrichment{LimitedDataUse: true}, c.MetaEventName(event.NameClosedDeal), `"data_processing_options":["LDU"],"data_processing_options_country":0,"data_processing_options_state":0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			se := mapEnriched(t, c, base, tt.en)
			b, _ := json.Marshal(se)
			if se.EventName != tt.wantName {
				t.Errorf("event_name %q, want %q", se.EventName, tt.wantName)
			}
			has := strings.Contains(string(b), "data_processing_options")
			if (tt.wantLDU != "") != has || (has && !strings.Contains(string(b), tt.wantLDU)) {
				t.Errorf("payload %s, want data processing fields %q", b, tt.wantLDU)
			}
		})
	}
}

// TestValueSignals: the process stage's value signals reach custom_data as
// custom properties (the whole custom_data is compared, so nothing else,
// such as predicted_ltv, appears); with none there are none.
func TestValueSignals(t *testing.T) {
	t.Parallel()
	c := testConfig()
	yes, no := true, false
	ltv := 880.0
	base := event.Event{EventID: "e", EventName: event.NameLead, Source: event.SourceCRM, EventTime: time.Now(), User: event.User{Email: "a@b.example"}}
	tests := []struct {
		name string
		en   *event.Enrichment
		want string // custom_data as JSON; "" for absent
	}{
		{"no enrichment, no properties", nil, ""},
		{"identity only", &event.Enrichment{Identity: "k"}, ""},
		{"first purchase", &event.Enrichment{NewCustomer: &yes}, `{"customer_type":"new"}`},
		{"returning with value and segment", &event.Enrichment{NewCustomer: &no, LifetimeValue: &ltv, RFM: "R2F4M4"},
			`{"customer_type":"returning","lifetime_value":880,"rfm_segment":"R2F4M4"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			se := mapEnriched(t, c, base, tt.en)
			got := ""
			if se.CustomData != nil {
				b, _ := json.Marshal(se.CustomData)
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("custom_data %s, want %s", got, tt.want)
			}
		})
	}
}

// mapEnriched maps a copy of base with the enrichment en.
func mapEnriched(t *testing.T, c Config, base event.Event, en *event.Enrichment) ServerEvent {
	t.Helper()
	base.Enrichment = en
	se, _, err := c.Map(&base)
	if err != nil {
		t.Fatal(err)
	}
	return se
}
