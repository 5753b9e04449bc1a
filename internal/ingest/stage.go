// Package ingest is the first stage: it decodes each input record (our
// envelope or Segment-spec JSON), validates it against the versioned schemas,
// normalizes it into the canonical event and writes it to sp.events keyed by
// the person's identity. Records that cannot be used go to sp.dlq with the
// reason and their source coordinates, and get an invalid outcome.
//
// Why offsets are safe: every record of a poll is handled inside one Kafka
// transaction (kafkax.TransactLoop) that produces the events, dead letters,
// outcomes and the offset commit together; none is visible without the
// others.
package ingest

import (
	"context"
	"errors"
	"time"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// Stage is the ingest stage.
type Stage struct {
	dec      *Decoder
	topics   kafkax.Topics
	sourceOf func(topic string) event.Source
	clock    func() time.Time
}

// NewStage returns the stage. sourceOf labels records by input topic, also
// those that cannot be decoded.
func NewStage(dec *Decoder, topics kafkax.Topics, sourceOf func(string) event.Source, clock func() time.Time) *Stage {
	if clock == nil {
		clock = time.Now
	}
	return &Stage{dec: dec, topics: topics, sourceOf: sourceOf, clock: clock}
}

// Handle is the kafkax.Handler for the stage.
func (s *Stage) Handle(_ context.Context, recs []*kgo.Record, out *kafkax.Output) error {
	now := s.clock()
	for _, rec := range recs {
		origin := event.Origin{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
		ev, err := s.dec.Decode(rec.Value, origin, now)
		if err != nil {
			s.reject(out, rec, origin, err, now)
			continue
		}
		v, err := json.Marshal(&ev)
		if err != nil {
			s.reject(out, rec, origin, err, now)
			continue
		}
		out.Produce(&kgo.Record{Topic: s.topics.Events(), Key: IdentityKey(&ev), Value: v})
	}
	return nil
}

func (s *Stage) reject(out *kafkax.Output, rec *kgo.Record, origin event.Origin, err error, now time.Time) {
	reason, detail, path := "invalid", err.Error(), ""
	var de *DecodeError
	if errors.As(err, &de) {
		reason, detail, path = string(de.Reason), de.Detail, de.Path
	}
	o := event.Outcome{Record: origin.String(), Source: s.sourceOf(rec.Topic), Status: event.StatusInvalid, Reason: reason, Detail: detail, At: now}
	if path != "" {
		o.Detail = path + ": " + detail
	}
	out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), o))
	out.Produce(kafkax.DLQRecord(s.topics.DLQ(), rec.Key, rec.Value, kafkax.DeadLetter{Stage: "ingest", Reason: reason, Detail: detail, Path: path, Origin: origin}))
}
