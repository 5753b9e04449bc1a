package google

import (
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestUserProperties: new_customer becomes customerType NEW or RETURNING
// and the lifetime value a customerValueBucket on the configured
// thresholds (defaults 200 and 1,000); nothing known, nothing sent.
func TestUserProperties(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	ltv := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		buckets ValueBuckets // zero: the defaults
		in      *event.Enrichment
		want    *UserProperties
	}{
		{"no enrichment", ValueBuckets{}, nil, nil},
		{"enrichment without value signals", ValueBuckets{}, &event.Enrichment{Identity: "k"}, nil},
		{"first purchase", ValueBuckets{}, &event.Enrichment{NewCustomer: &yes, LifetimeValue: ltv(40)}, &UserProperties{CustomerType: "NEW", CustomerValueBucket: "LOW"}},
		{"returning, just below medium", ValueBuckets{}, &event.Enrichment{NewCustomer: &no, LifetimeValue: ltv(199.99)}, &UserProperties{CustomerType: "RETURNING", CustomerValueBucket: "LOW"}},
		{"returning, at medium", ValueBuckets{}, &event.Enrichment{NewCustomer: &no, LifetimeValue: ltv(200)}, &UserProperties{CustomerType: "RETURNING", CustomerValueBucket: "MEDIUM"}},
		{"at high", ValueBuckets{}, &event.Enrichment{LifetimeValue: ltv(1000)}, &UserProperties{CustomerValueBucket: "HIGH"}},
		{"not a purchase: no customer type", ValueBuckets{}, &event.Enrichment{LifetimeValue: ltv(5)}, &UserProperties{CustomerValueBucket: "LOW"}},
		{"own thresholds", ValueBuckets{Medium: 10, High: 20}, &event.Enrichment{NewCustomer: &yes, LifetimeValue: ltv(15)}, &UserProperties{CustomerType: "NEW", CustomerValueBucket: "MEDIUM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			if tt.buckets != (ValueBuckets{}) {
				c.ValueBuckets = tt.buckets
			}
			ev := &event.Event{EventID: "e1", EventName: event.NamePurchase, EventTime: time.Unix(1795168800, 0).UTC(), Source: event.SourceWeb,
				User: event.User{Email: "a@b.co"}, Enrichment: tt.in}
			got, _, err := c.Map(ev)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == nil && got.UserProperties != nil:
				t.Errorf("userProperties %+v, want none", *got.UserProperties)
			case tt.want != nil && (got.UserProperties == nil || *got.UserProperties != *tt.want):
				t.Errorf("userProperties %+v, want %+v", got.UserProperties, *tt.want)
			}
		})
	}
}
