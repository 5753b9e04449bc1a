package process

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/store"
)

// When a partition's state is unavailable — a long restore from the
// changelog after a rebalance or a lost disk, or a store that fails to
// open — a batch waits for it at most Config.StateWait (the restore goes
// on in the background meanwhile, and later batches do not wait for it
// again) and then handles that partition's records without it:
//
//   - An event is routed and given consent by what it carries itself (its
//     own consent signals and CRM exclusions; the unknown-consent policy
//     when it has none), with no stored click ids, identifiers or profile
//     (an fbc is still built from its own fbclid), no new_customer or RFM,
//     and Enrichment.Degraded set; its outcomes say so (Outcome.Degraded).
//   - Dedupe is neither checked nor marked: the partition's marks are not
//     readable, and writing marks to the changelog while a restore reads
//     it would leave the restored copy behind its checkpoint. The
//     platforms' own deduplication on the event id (sent with every event)
//     is the safety net for a resend; the order-id key is not covered.
//     The event still carries its key as Enrichment.Identity: the deliver
//     stage purges a person's queued events by it when consent is
//     withdrawn. Its dead letter then asks for a release, which finds no
//     mark of its own (only one its event id set on the normal path, which
//     the platform's dedupe covers as well).
//   - Internal records (link, merge, forward, release) need the state: they
//     are produced again, unchanged, at the end of their partition in the
//     same transaction that commits them, and the partition is held for
//     requeueHold, so they wait without holding up the batch's events
//     (the partition's next events come at most that much later).
//     GroupTransactSession commits every polled record: rewinding is no
//     option. The input record a link, merge or forward carries gets its
//     outcomes when the state is back.

// NoStateWait is Config.StateWait for never waiting on a restore.
const NoStateWait = time.Duration(-1)

// requeueHold is how long a partition whose internal records were put back
// is not fetched again: long enough not to spin on a failing store, short
// against the delay an event may take.
const requeueHold = time.Second

// prepare starts opening, side by side, the partitions the batch's event
// records need, so one batch waits at most StateWait in all.
func (s *Stage) prepare(recs []*kgo.Record) {
	var parts []int32
	for _, r := range recs {
		if r.Topic == s.cfg.Topics.Events() && !slices.Contains(parts, r.Partition) {
			parts = append(parts, r.Partition)
		}
	}
	s.cfg.Store.Prepare(parts...)
}

// partition returns partition p's state, or nil when the batch goes
// without it (b.unavailable says why). It fails only when the batch must:
// its context ended, or StateWait is zero and the state cannot be opened.
func (s *Stage) partition(b *batch, p int32) (*store.Partition, error) {
	if pt, ok := b.touched[p]; ok {
		return pt, nil
	}
	if _, ok := b.unavailable[p]; ok {
		return nil, nil
	}
	if s.cfg.StateWait == 0 {
		pt, err := s.cfg.Store.Partition(b.ctx, p)
		if err != nil {
			return nil, fmt.Errorf("opening state of partition %d: %w", p, err)
		}
		return pt, nil
	}
	pt, err := s.cfg.Store.PartitionBy(b.ctx, p, b.deadline)
	switch {
	case err == nil:
		return pt, nil
	case b.ctx.Err() != nil:
		return nil, fmt.Errorf("opening state of partition %d: %w", p, err)
	case errors.Is(err, store.ErrNotReady):
		b.unavailable[p] = event.DegradedStateUnavailable
	default:
		b.unavailable[p] = event.DegradedStateError
		s.cfg.Logger.Warn("state of partition cannot be opened", "partition", p, "err", err)
	}
	return nil, nil
}

// dropFailing has the store drop a partition whose local copy failed to
// read, and passes err on: the batch aborts (what it wrote for other
// records cannot be taken back), and the next batch restores the partition
// in full from the changelog (processing its events without state
// meanwhile, unless StateWait is zero) instead of failing on the same
// corrupt copy again and again.
func (s *Stage) dropFailing(err error) error {
	var pe *store.PartitionError
	if errors.As(err, &pe) {
		s.cfg.Logger.Warn("state of partition failed; dropping its local copy", "partition", pe.Partition, "err", pe.Err)
		s.cfg.Store.Drop(pe.Partition)
	}
	return err
}

// requeue puts an internal record of a partition without state back at
// the end of its partition (same key, so same partition) and holds the
// partition a little.
func (s *Stage) requeue(b *batch, rec *kgo.Record) {
	b.out.Produce(&kgo.Record{Topic: rec.Topic, Key: rec.Key, Value: rec.Value, Headers: rec.Headers})
	b.out.Hold(rec.Topic, rec.Partition, time.Now().Add(requeueHold))
}

// stateless handles an event of partition id, keyed k, without the
// person's state: only what the event carries decides and goes out.
func (s *Stage) stateless(b *batch, id int32, k string, ev *event.Event) error {
	p := &person{}
	// Without the person's last word, any denial or exclusion may be a
	// withdrawal: marking it can only purge this person's queued events
	// of no later time, which the denial covers anyway.
	if k != "" && isWithdrawal(ev, p) {
		s.withdrawal(b, id, k, ev.EventTime)
	}
	p.observe(ev)
	p.attach(ev, s.cfg.ClickIDWindows, 0, 0)
	en := enrichment(ev)
	en.NewCustomer, en.RFM = nil, "" // the person's purchases are unknown
	en.Identity = k
	en.Degraded = b.unavailable[id]
	return s.route(b, nil, ev, p, "") // no marks without state, so no owner
}

// logDegraded logs each partition of the batch's events that starts or
// stops going without state, once per change rather than per batch.
func (s *Stage) logDegraded(b *batch) {
	for id, reason := range b.unavailable {
		if s.degraded[id] != reason {
			s.cfg.Logger.Warn("processing events without state: sent with their own identifiers, not deduplicated, internal records wait",
				"partition", id, "reason", reason)
			s.degraded[id] = reason
		}
	}
	for id := range b.touched {
		if _, was := s.degraded[id]; was {
			s.cfg.Logger.Info("state available again; events are enriched and deduplicated", "partition", id)
			delete(s.degraded, id)
		}
	}
}
