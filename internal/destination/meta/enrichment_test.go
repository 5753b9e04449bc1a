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
			ev := base
			ev.Enrichment = tt.en
			se, _, err := c.Map(&ev)
			if err != nil {
				t.Fatal(err)
			}
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
