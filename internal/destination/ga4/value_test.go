package ga4

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestValueSignals: new_customer becomes the event's customer_type, the
// lifetime value and RFM segment user properties; none known, none sent.
func TestValueSignals(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	ltv := 310.25
	tests := []struct {
		name      string
		in        *event.Enrichment
		wantType  string
		wantProps string // user_properties as JSON; "" for absent
	}{
		{"no enrichment", nil, "", ""},
		{"identity only", &event.Enrichment{Identity: "k"}, "", ""},
		{"first purchase", &event.Enrichment{NewCustomer: &yes, LifetimeValue: &ltv, RFM: "R5F1M3"}, "new",
			`{"lifetime_value":{"value":310.25},"rfm_segment":{"value":"R5F1M3"}}`},
		{"returning purchase", &event.Enrichment{NewCustomer: &no}, "returning", ""},
		{"a lead of a known customer", &event.Enrichment{LifetimeValue: &ltv}, "", `{"lifetime_value":{"value":310.25}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &event.Event{EventID: "e1", EventName: event.NamePurchase, EventTime: time.Now(), Source: event.SourceWeb,
				User: event.User{AnonymousID: "123.456"}, Enrichment: tt.in}
			r, _, err := testConfig().Map(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Events[0].Params.CustomerType; got != tt.wantType {
				t.Errorf("customer_type %q, want %q", got, tt.wantType)
			}
			switch {
			case tt.wantProps == "" && r.UserProperties != nil:
				t.Errorf("user_properties %v, want none", r.UserProperties)
			case tt.wantProps != "":
				var got, want any
				b, _ := json.Marshal(r.UserProperties)
				_ = json.Unmarshal(b, &got)
				_ = json.Unmarshal([]byte(tt.wantProps), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("user_properties %s, want %s", b, tt.wantProps)
				}
			}
		})
	}
}
