package destination

import (
	"strings"
	"testing"
	"time"
)

func TestDeliveryFillAndValidate(t *testing.T) {
	t.Parallel()
	def := Delivery{BatchSize: 100, Linger: time.Second, Timeout: 5 * time.Second, Concurrency: 2, MaxEventAge: 24 * time.Hour, Events: []string{"purchase"}}
	lim := DeliveryLimits{MaxBatch: 500, MaxEventAge: 48 * time.Hour, MaxConcurrency: 8, MaxLinger: time.Minute, MaxRequestsPerMinute: 300}
	tests := []struct {
		name string
		in   Delivery
		want []string // keys the error must name; none: valid
	}{
		{"all defaults", Delivery{}, nil},
		{"set values kept", Delivery{BatchSize: 500, Events: []string{"lead"}}, nil},
		{"batch over the platform's limit", Delivery{BatchSize: 501}, []string{"batch_size"}},
		{"age over the platform's limit", Delivery{MaxEventAge: 72 * time.Hour}, []string{"max_event_age", "platform's limit"}},
		{"negative linger, too much concurrency", Delivery{Linger: -time.Second, Concurrency: 9}, []string{"linger", "concurrency"}},
		{"request rate within the platform's limit", Delivery{RequestsPerMinute: 300}, nil},
		{"request rate over the platform's limit", Delivery{RequestsPerMinute: 301}, []string{"requests_per_minute", "documented limit"}},
		{"negative request rate", Delivery{RequestsPerMinute: -1}, []string{"requests_per_minute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.in
			d.Fill(def)
			err := d.Validate(lim)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.in.BatchSize != 0 && d.BatchSize != tt.in.BatchSize {
					t.Errorf("Fill overwrote batch_size %d with %d", tt.in.BatchSize, d.BatchSize)
				}
				if len(tt.in.Events) == 0 && !d.Accepts("purchase") {
					t.Error("default events not filled")
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
	// Fill copies the default list: changing one destination's events must
	// not change another's.
	a, b := Delivery{}, Delivery{}
	a.Fill(def)
	b.Fill(def)
	a.Events[0] = "lead"
	if b.Events[0] != "purchase" || def.Events[0] != "purchase" {
		t.Error("Fill shares the default events slice")
	}
}

func TestValidEnvName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"META_TOKEN": true, "_x1": true, "1X": false, "EAAB-token!": false, "": false} {
		if got := ValidEnvName(in); got != want {
			t.Errorf("ValidEnvName(%q) = %v", in, got)
		}
	}
}
