// Package deliver is the delivery stage shared by every destination: it
// reads sp.out.<dest>, drops nothing, batches to the platform's limit, keeps
// too-old events out of batches, sends, retries retryable failures, splits
// all-or-nothing batches to isolate bad events, and records one outcome per
// event.
//
// Why offsets are safe: the whole poll is handled inside one Kafka
// transaction (kafkax.TransactLoop). Outcome and dead-letter records are
// produced in it and the offsets commit with it, after the platform has
// answered. A crash before the commit means the batch is sent again, with the
// same event ids, which the platforms deduplicate. If retries in place run
// past MaxRetryElapsed the transaction aborts and the records are read again
// from Kafka, so a long outage keeps its backlog in Kafka, not in memory.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// Config is the retry policy for one destination's stage.
type Config struct {
	InitialBackoff  time.Duration
	MaxBackoff      time.Duration
	MaxRetryElapsed time.Duration
	// Concurrency is how many requests may be in flight at once.
	Concurrency int
	Breaker     BreakerConfig
	// Tiers are the retry queue's delays, shortest first (DefaultTiers when
	// empty); one topic sp.retry.<dest>.<tier> each.
	Tiers []time.Duration
	// Degraded configures what happens while the breaker is open.
	Degraded DegradedConfig
	// RequestsPerMinute caps the requests to the destination (0: no cap).
	RequestsPerMinute int
	// Purged, if set, says an event was queued before its person withdrew
	// consent (identity is the event's enrichment.identity): it is not
	// sent, and its outcome is suppressed with consent_withdrawn.
	Purged func(identity string, eventTime time.Time) bool
}

// ErrBreakerOpen ends a transaction whose destination's breaker opened: its
// records stay in Kafka until the platform answers again.
var ErrBreakerOpen = errors.New("circuit breaker open")

// ErrRetriesExhausted ends a transaction whose retries in place ran out; its
// records are consumed again later.
var ErrRetriesExhausted = errors.New("retries in place exhausted")

// Stage delivers one destination's events.
type Stage struct {
	dest   destination.Destination
	limits destination.Limits
	topics kafkax.Topics
	cfg    Config
	clock  func() time.Time
	log    *slog.Logger
	// Breaker is the destination's circuit breaker.
	Breaker *Breaker
	// retryTopics are the tiers' topics, by tier index.
	retryTopics []string
	// limiter spaces requests when the platform limits their rate; it is
	// shared by the stage's loops, so sp.out and the retry tiers together
	// stay under the limit.
	limiter *rate.Limiter
}

// New returns the stage for dest.
func New(dest destination.Destination, topics kafkax.Topics, cfg Config, clock func() time.Time, log *slog.Logger) *Stage {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if len(cfg.Tiers) == 0 {
		cfg.Tiers = DefaultTiers
	}
	if cfg.Degraded.Every <= 0 {
		cfg.Degraded.Every = time.Minute
	}
	s := &Stage{dest: dest, limits: dest.Limits(), topics: topics, cfg: cfg, clock: clock, log: log,
		Breaker: NewBreaker(dest.Name(), cfg.Breaker, clock, log), retryTopics: RetryTopics(topics, dest.Name(), cfg.Tiers)}
	if cfg.RequestsPerMinute > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(float64(cfg.RequestsPerMinute)/60), cfg.Concurrency)
	}
	return s
}

// RetryTopics are the stage's retry tier topics, shortest delay first; the
// app consumes them with a group of their own; Handle serves both.
func (s *Stage) RetryTopics() []string { return s.retryTopics }

// item is one event on its way through a batch.
type item struct {
	ev       *event.Event
	prepared destination.Prepared
	result   destination.Result
	attempts int
	// withdrawn: the person withdrew consent while the item was retried
	// in place; it is not sent again.
	withdrawn bool
	// raw is the record's value, state what its retry headers say.
	raw   []byte
	state retryState
}

// Handle is the kafkax.Handler for the stage, for sp.out.<dest> and for the
// retry tiers alike: a retry record that is not due yet goes back to the end
// of its tier and its partition is held until it is.
func (s *Stage) Handle(ctx context.Context, recs []*kgo.Record, out *kafkax.Output) error {
	if ready, _ := s.Breaker.Ready(); !ready && s.cfg.Degraded.Dir != "" {
		return s.handleDegraded(recs, out)
	}
	now := s.clock()
	name := s.dest.Name()
	var ready []*item
	for _, rec := range recs {
		st := readRetryState(rec)
		if st.tier >= 0 && now.Before(st.due) {
			requeue(out, rec, st.due)
			continue
		}
		ev := new(event.Event)
		if err := json.Unmarshal(rec.Value, ev); err != nil {
			// Written by our own process stage, so this is corruption:
			// keep the record and say so.
			o := event.Outcome{Record: string(rec.Key), Destination: name, Status: event.StatusRejected, Reason: "corrupt_record", Detail: "undecodable record on " + rec.Topic, At: now}
			out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), o))
			out.Produce(kafkax.DLQRecord(s.topics.DLQ(), rec.Key, rec.Value, kafkax.DeadLetter{Stage: "deliver", Reason: o.Reason, Detail: o.Detail, Destination: name, Origin: event.Origin{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}}))
			continue
		}
		if s.purge(out, ev, st.attempts, now) {
			continue
		}
		if limit := s.limits.MaxEventAge(ev); now.Sub(ev.EventTime) > limit {
			s.finish(out, ev, destination.Result{Status: destination.Rejected, Reason: "too_old", Detail: fmt.Sprintf("event is %s old; %s accepts at most %s", now.Sub(ev.EventTime).Round(time.Minute), name, limit)}, event.StatusExpired, st.attempts, nil, now)
			continue
		}
		p, err := s.dest.Prepare(ev)
		if err != nil {
			r := destination.Result{Status: destination.Rejected, Reason: "mapping_failed", Detail: err.Error()}
			if pe, ok := destination.AsPermanent(err); ok {
				r.Reason, r.Detail = pe.Reason, pe.Detail
			}
			s.finish(out, ev, r, event.StatusRejected, st.attempts, nil, now)
			continue
		}
		ready = append(ready, &item{ev: ev, prepared: p, raw: rec.Value, state: st})
	}
	if err := s.sendAll(ctx, ready); err != nil {
		return err
	}
	at := s.clock()
	for _, it := range ready {
		switch {
		case it.withdrawn:
			s.suppressWithdrawn(out, it.ev, it.state.attempts+it.attempts, at)
		case it.result.Status == destination.Delivered:
			s.finish(out, it.ev, it.result, event.StatusDelivered, it.state.attempts+it.attempts, it.prepared.MatchKeys, at)
		case it.result.Status == destination.Retry:
			s.schedule(out, it, at)
		default:
			s.finish(out, it.ev, it.result, event.StatusRejected, it.state.attempts+it.attempts, it.prepared.MatchKeys, at)
		}
	}
	return nil
}

// finish records an event's outcome, and a dead-letter record when it did
// not reach the platform, so it can be replayed.
func (s *Stage) finish(out *kafkax.Output, ev *event.Event, r destination.Result, status event.Status, attempts int, keys []string, at time.Time) {
	o := event.Outcome{
		Record: ev.Origin.String(), EventID: ev.EventID, EventName: ev.EventName, Source: ev.Source,
		Destination: s.dest.Name(), Status: status, Reason: r.Reason, Detail: r.Detail,
		Attempts: attempts, EventTime: ev.EventTime, At: at, PlatformRef: r.PlatformRef, MatchKeys: keys,
		Value: ev.Properties.Value, Currency: ev.Properties.Currency, Degraded: event.DegradedOf(ev),
	}
	out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), o))
	// Delivered and exported events reached their platform; suppressed ones
	// (consent withdrawn) must not be sent, so none is kept for a replay.
	if status == event.StatusDelivered || status == event.StatusDegradedExported || status == event.StatusSuppressed {
		return
	}
	v, _ := json.Marshal(ev)
	out.Produce(kafkax.DLQRecord(s.topics.DLQ(), []byte(ev.EventID), v, kafkax.DeadLetter{
		Stage: "deliver", Reason: r.Reason, Detail: r.Detail, Destination: s.dest.Name(), Origin: ev.Origin,
	}))
}

// sendAll sends items in batches of the platform's size, Concurrency at a
// time, and fills in each item's result.
func (s *Stage) sendAll(ctx context.Context, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	deadline := time.Now().Add(s.cfg.MaxRetryElapsed)
	size := s.limits.MaxBatch
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for start := 0; start < len(items); start += size {
		chunk := items[start:min(start+size, len(items))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.send(ctx, chunk, deadline); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// send delivers one batch: retryable failures are retried in place with
// backoff until deadline; a permanent failure of an all-or-nothing batch is
// split in halves until the bad events stand alone.
func (s *Stage) send(ctx context.Context, batch []*item, deadline time.Time) error {
	backoff := s.cfg.InitialBackoff
	todo := batch
	for first := true; len(todo) > 0; first = false {
		if !first {
			// A person may withdraw consent while their event waits for
			// the platform: check again before every resend.
			if todo = s.dropWithdrawn(todo); len(todo) == 0 {
				return nil
			}
		}
		ps := make([]destination.Prepared, len(todo))
		for i, it := range todo {
			ps[i] = it.prepared
			it.attempts++
		}
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				return fmt.Errorf("waiting for %s's rate limit: %w", s.dest.Name(), err)
			}
		}
		if ok, _ := s.Breaker.Allow(); !ok {
			return fmt.Errorf("sending %d events to %s: %w", len(todo), s.dest.Name(), ErrBreakerOpen)
		}
		res, err := s.dest.Send(ctx, ps)
		if err != nil && !isPermanent(err) {
			s.Breaker.Failure(err.Error()) // 429, 5xx, timeout: the platform is struggling
		} else {
			s.Breaker.Success() // the platform answered, even if to refuse
		}
		var wait time.Duration
		switch {
		case err == nil:
			var again []*item
			for i, it := range todo {
				r := res[i]
				if r.Status == destination.Retry {
					again = append(again, it)
					wait = max(wait, r.RetryAfter)
					it.result = r
					continue
				}
				it.result = r
			}
			todo = again
			if len(todo) == 0 {
				return nil
			}
			// Per-event answers to come back later go to the retry queue
			// (Handle schedules them) rather than hold up the batch.
			if wait > s.cfg.MaxBackoff || time.Now().Add(max(wait, backoff)).After(deadline) {
				return nil
			}
		default:
			if pe, ok := destination.AsPermanent(err); ok {
				if len(todo) > 1 && s.limits.AllOrNothing && !pe.Credential {
					mid := len(todo) / 2
					if err := s.send(ctx, todo[:mid], deadline); err != nil {
						return err
					}
					return s.send(ctx, todo[mid:], deadline)
				}
				for _, it := range todo {
					it.result = destination.Result{Status: destination.Rejected, Reason: pe.Reason, Detail: pe.Detail, PlatformRef: pe.PlatformRef}
				}
				return nil
			}
			re, ok := destination.AsRetryable(err)
			if !ok {
				re = &destination.RetryableError{Reason: "unclassified", Detail: err.Error()}
			}
			wait = re.After
			s.log.Warn("send failed, retrying in place", "destination", s.dest.Name(), "events", len(todo), "reason", re.Reason, "detail", re.Detail)
		}
		wait = min(max(wait, backoff), s.cfg.MaxBackoff)
		backoff = min(backoff*2, s.cfg.MaxBackoff)
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("sending %d events to %s: %w", len(todo), s.dest.Name(), ErrRetriesExhausted)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sending to %s: %w", s.dest.Name(), ctx.Err())
		case <-time.After(wait):
		}
	}
	return nil
}

// purge ends ev as suppressed when its person withdrew consent after it
// was queued, and reports whether it did.
func (s *Stage) purge(out *kafkax.Output, ev *event.Event, attempts int, now time.Time) bool {
	if !s.withdrawn(ev) {
		return false
	}
	s.suppressWithdrawn(out, ev, attempts, now)
	return true
}

// withdrawn reports whether ev's person withdrew consent after ev happened.
func (s *Stage) withdrawn(ev *event.Event) bool {
	return s.cfg.Purged != nil && ev.Enrichment != nil && s.cfg.Purged(ev.Enrichment.Identity, ev.EventTime)
}

func (s *Stage) suppressWithdrawn(out *kafkax.Output, ev *event.Event, attempts int, now time.Time) {
	s.finish(out, ev, destination.Result{Status: destination.Rejected, Reason: "consent_withdrawn", Detail: "the person withdrew consent after this event was queued"}, event.StatusSuppressed, attempts, nil, now)
}

// dropWithdrawn marks the items whose person has withdrawn consent and
// returns the others.
func (s *Stage) dropWithdrawn(todo []*item) []*item {
	var keep []*item // not in place: todo shares the caller's array
	for _, it := range todo {
		if s.withdrawn(it.ev) {
			it.withdrawn = true
			continue
		}
		keep = append(keep, it)
	}
	return keep
}

func isPermanent(err error) bool {
	_, ok := destination.AsPermanent(err)
	return ok
}
