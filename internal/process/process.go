// Package process is the stage between sp.events and the per-destination
// topics. Today it routes: each valid event goes to every destination whose
// rules accept it, and the routing decision is itself an outcome, so the
// ledger knows how many terminal outcomes to expect per input record.
// Identity, click ids, profiles, consent and dedupe (partition-local state)
// grow here.
//
// Why offsets are safe: routing runs inside one Kafka transaction
// (kafkax.TransactLoop) that produces the sp.out.<dest> records, the routed
// outcome and the offset commit together.
package process

import (
	"context"
	"encoding/json"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// Route is one destination and the rule that decides which events it gets.
type Route struct {
	Destination string
	Accepts     func(ev *event.Event) bool
}

// Stage routes events to destinations.
type Stage struct {
	routes []Route
	topics kafkax.Topics
	clock  func() time.Time
}

// New returns the stage.
func New(routes []Route, topics kafkax.Topics, clock func() time.Time) *Stage {
	if clock == nil {
		clock = time.Now
	}
	return &Stage{routes: routes, topics: topics, clock: clock}
}

// Handle is the kafkax.Handler for the stage.
func (s *Stage) Handle(_ context.Context, recs []*kgo.Record, out *kafkax.Output) error {
	now := s.clock()
	for _, rec := range recs {
		var ev event.Event
		if err := json.Unmarshal(rec.Value, &ev); err != nil {
			o := event.Outcome{Record: event.Origin{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}.String(), Status: event.StatusInvalid, Reason: "corrupt_record", Detail: "undecodable record on " + rec.Topic, At: now}
			out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), o))
			out.Produce(kafkax.DLQRecord(s.topics.DLQ(), rec.Key, rec.Value, kafkax.DeadLetter{Stage: "process", Reason: o.Reason, Detail: o.Detail, Origin: event.Origin{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}}))
			continue
		}
		var dests []string
		for _, r := range s.routes {
			if r.Accepts(&ev) {
				dests = append(dests, r.Destination)
				out.Produce(&kgo.Record{Topic: s.topics.Out(r.Destination), Key: []byte(ev.EventID), Value: rec.Value})
			}
		}
		o := event.Outcome{Record: ev.Origin.String(), EventID: ev.EventID, EventName: ev.EventName, Source: ev.Source, EventTime: ev.EventTime, At: now}
		if len(dests) == 0 {
			o.Status, o.Reason, o.Detail = event.StatusSuppressed, "no_route", "no destination takes "+ev.EventName+" events"
		} else {
			o.Status, o.Destinations = event.StatusRouted, dests
		}
		out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), o))
	}
	return nil
}
