package ingest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/schema"
)

func TestStageDeadLettersWithReasonAndCoordinates(t *testing.T) {
	t.Parallel()
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	st := NewStage(NewDecoder(v, DecodeOptions{}), kafkax.Topics{Prefix: "sp."}, func(string) event.Source { return event.SourceCRM }, func() time.Time { return time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) })
	const secretEmail = "private.person@example.com"
	good := `{"event_id":"e1","event_name":"Deal Won","event_time":"2026-01-01T10:00:00Z","source":"crm","user":{"email":"` + secretEmail + `","user_id":"u-9"}}`
	bad := `{"event_id":"e2","event_name":"closed_deal","event_time":"2026-01-01T10:00:00Z","source":"crm","user":{"email":"` + secretEmail + `"},"properties":{"value":"` + secretEmail + `"}}`
	var got []*kgo.Record
	out := kafkax.NewOutput(func(r *kgo.Record, p func(*kgo.Record, error)) { got = append(got, r); p(r, nil) })
	recs := []*kgo.Record{
		{Topic: "events.crm", Partition: 3, Offset: 41, Value: []byte(good)},
		{Topic: "events.crm", Partition: 3, Offset: 42, Value: []byte(bad)},
	}
	if err := st.Handle(context.Background(), recs, out); err != nil {
		t.Fatal(err)
	}
	byTopic := map[string][]*kgo.Record{}
	for _, r := range got {
		byTopic[r.Topic] = append(byTopic[r.Topic], r)
	}
	if len(byTopic["sp.events"]) != 1 || len(byTopic["sp.dlq"]) != 1 || len(byTopic["sp.outcomes"]) != 1 {
		t.Fatalf("produced %d events, %d dlq, %d outcomes", len(byTopic["sp.events"]), len(byTopic["sp.dlq"]), len(byTopic["sp.outcomes"]))
	}
	ev := byTopic["sp.events"][0]
	var canon event.Event
	if err := json.Unmarshal(ev.Value, &canon); err != nil || canon.EventName != event.NameClosedDeal || canon.Origin.String() != "events.crm/3/41" {
		t.Errorf("canonical event = %+v, %v", canon, err)
	}
	if strings.Contains(string(ev.Key), "u-9") || len(ev.Key) != 32 {
		t.Errorf("sp.events key %q is not an opaque identity hash", ev.Key)
	}
	d := byTopic["sp.dlq"][0]
	if string(d.Value) != bad {
		t.Error("the DLQ record must keep the original bytes")
	}
	for k, want := range map[string]string{
		kafkax.HeaderReason: "schema_violation", kafkax.HeaderPath: "/properties/value", kafkax.HeaderStage: "ingest",
		kafkax.HeaderSourceTopic: "events.crm", kafkax.HeaderSourcePartition: "3", kafkax.HeaderSourceOffset: "42",
	} {
		if got := kafkax.Header(d, k); got != want {
			t.Errorf("DLQ header %s = %q, want %q", k, got, want)
		}
	}
	o := string(byTopic["sp.outcomes"][0].Value)
	var oc event.Outcome
	_ = json.Unmarshal([]byte(o), &oc)
	if oc.Status != event.StatusInvalid || oc.Record != "events.crm/3/42" || oc.Source != event.SourceCRM || !strings.Contains(oc.Detail, "/properties/value") {
		t.Errorf("outcome = %+v", oc)
	}
	if strings.Contains(o, secretEmail) || strings.Contains(kafkax.Header(d, kafkax.HeaderDetail), secretEmail) {
		t.Error("personal data in the outcome or the DLQ reason")
	}
}
