package process

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

func collect() (*kafkax.Output, *[]*kgo.Record) {
	var got []*kgo.Record
	return kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { got = append(got, r); p(r, nil) }), &got
}

func TestRouting(t *testing.T) {
	t.Parallel()
	topics := kafkax.Topics{Prefix: "sp."}
	onlyPurchases := func(ev *event.Event) bool { return ev.EventName == event.NamePurchase }
	all := func(*event.Event) bool { return true }
	st := New([]Route{{Destination: "meta", Accepts: all}, {Destination: "tiktok", Accepts: onlyPurchases}}, topics, func() time.Time { return time.Unix(100, 0) })
	rec := func(name string, off int64) *kgo.Record {
		b, _ := json.Marshal(event.Event{EventID: name + "-id", EventName: name, Source: event.SourceWeb, Origin: event.Origin{Topic: "events.web", Offset: off}})
		return &kgo.Record{Topic: "sp.events", Value: b}
	}
	tests := []struct {
		name      string
		in        *kgo.Record
		wantTo    []string
		wantState event.Status
	}{
		{"purchase goes to both", rec(event.NamePurchase, 1), []string{"sp.out.meta", "sp.out.tiktok"}, event.StatusRouted},
		{"lead goes to meta only", rec(event.NameLead, 2), []string{"sp.out.meta"}, event.StatusRouted},
		{"corrupt record is kept and invalid", &kgo.Record{Topic: "sp.events", Value: []byte("{"), Offset: 9}, []string{"sp.dlq"}, event.StatusInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, got := collect()
			if err := st.Handle(context.Background(), []*kgo.Record{tt.in}, out); err != nil {
				t.Fatal(err)
			}
			var to []string
			var o event.Outcome
			for _, r := range *got {
				if r.Topic == "sp.outcomes" {
					_ = json.Unmarshal(r.Value, &o)
					continue
				}
				to = append(to, r.Topic)
			}
			if len(to) != len(tt.wantTo) {
				t.Fatalf("produced to %v, want %v", to, tt.wantTo)
			}
			for i := range to {
				if to[i] != tt.wantTo[i] {
					t.Errorf("produced to %v, want %v", to, tt.wantTo)
				}
			}
			if o.Status != tt.wantState {
				t.Errorf("outcome %+v, want %s", o, tt.wantState)
			}
			if o.Status == event.StatusRouted && len(o.Destinations) != len(tt.wantTo) {
				t.Errorf("routed outcome names %v", o.Destinations)
			}
		})
	}
}

func TestNoRouteIsSuppressedNotLost(t *testing.T) {
	t.Parallel()
	st := New([]Route{{Destination: "meta", Accepts: func(ev *event.Event) bool { return ev.EventName != event.NameIdentify }}}, kafkax.Topics{Prefix: "sp."}, nil)
	b, _ := json.Marshal(event.Event{EventID: "i1", EventName: event.NameIdentify, Origin: event.Origin{Topic: "events.web", Partition: 2, Offset: 5}})
	out, got := collect()
	if err := st.Handle(context.Background(), []*kgo.Record{{Topic: "sp.events", Value: b}}, out); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 1 || (*got)[0].Topic != "sp.outcomes" {
		t.Fatalf("produced %d records", len(*got))
	}
	var o event.Outcome
	_ = json.Unmarshal((*got)[0].Value, &o)
	if o.Status != event.StatusSuppressed || o.Reason != "no_route" || o.Record != "events.web/2/5" {
		t.Errorf("outcome = %+v", o)
	}
}
