package process

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
)

// WithdrawalsStore names the compacted topic (sp.state.withdrawals) where
// the stage records, per person key, the time of the person's latest
// withdrawal of consent; the deliver stage reads it to purge what is still
// queued for that person.
const WithdrawalsStore = "withdrawals"

// ReasonConsentWithdrawn is the deliver stage's suppression reason for a
// queued event purged by a withdrawal.
const ReasonConsentWithdrawn = "consent_withdrawn"

// withdrawal records that person k withdrew consent with an event of time
// at. The record goes to the person's partition in the open transaction.
func (s *Stage) withdrawal(b *batch, partition int32, k string, at time.Time) {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(at.UnixMilli()))
	b.out.Produce(&kgo.Record{Topic: s.cfg.Topics.State(WithdrawalsStore), Partition: partition, Key: []byte(k), Value: v})
}

// isWithdrawal reports whether ev takes back what p allowed before: a
// denial of ad_user_data after none, or an exclusion the person did not
// have.
func isWithdrawal(ev *event.Event, p *person) bool {
	if ev.Consent != nil && ev.Consent.AdUserData == event.ConsentDenied && (p.Consent == nil || p.Consent.AdUserData != event.ConsentDenied) {
		return true
	}
	if ev.Profile != nil {
		for _, x := range ev.Profile.Exclusions {
			if !contains(p.Excl, x) {
				return true
			}
		}
	}
	return false
}

// Withdrawals is the deliver side of a withdrawal: a table of each
// person's latest withdrawal, kept current by reading the withdrawals topic
// from its start. Memory grows with the people who ever withdrew (one small
// entry each; the topic is compacted to the same).
type Withdrawals struct {
	mu    sync.RWMutex
	at    map[string]int64 // person key → withdrawal event time, Unix ms
	ready chan struct{}
	once  sync.Once
}

// NewWithdrawals returns an empty table.
func NewWithdrawals() *Withdrawals {
	return &Withdrawals{at: map[string]int64{}, ready: make(chan struct{})}
}

// Ready is closed once Follow has read the topic up to where it ended when
// Follow started: from then on the table holds every earlier withdrawal.
func (w *Withdrawals) Ready() <-chan struct{} { return w.ready }

// Purged reports whether an event of the person, of that time, was queued
// before the person withdrew consent: it must not be sent.
func (w *Withdrawals) Purged(identity string, eventTime time.Time) bool {
	if identity == "" {
		return false
	}
	w.mu.RLock()
	at, ok := w.at[identity]
	w.mu.RUnlock()
	return ok && eventTime.UnixMilli() <= at
}

// Add records a withdrawal (what Follow does per record).
func (w *Withdrawals) Add(identity string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ms := at.UnixMilli(); ms > w.at[identity] {
		w.at[identity] = ms
	}
}

// Follow reads the withdrawals topic (read_committed, every partition,
// from the start, no consumer group: every deliver replica needs all of
// it) into the table until ctx ends. A withdrawal purges what is still
// queued when it arrives here; an event already in a request may go.
func (w *Withdrawals) Follow(ctx context.Context, clientOpts []kgo.Opt, topic string, log *slog.Logger) error {
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), clientOpts...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// Where the topic ends now (last stable offsets), to know when the
	// table has caught up; control records are kept so the reader sees it
	// has passed a trailing transaction marker.
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("listing the end of %s: %w", topic, err)
	}
	behind := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			behind[o.Partition] = o.Offset
		}
	})
	if len(behind) == 0 {
		w.once.Do(func() { close(w.ready) })
	}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		for _, fe := range fs.Errors() {
			if ctx.Err() == nil && log != nil {
				log.Warn("reading withdrawals", "topic", fe.Topic, "err", fe.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := behind[r.Partition]; ok && r.Offset+1 >= end {
				delete(behind, r.Partition)
				if len(behind) == 0 {
					w.once.Do(func() { close(w.ready) })
				}
			}
			if !r.Attrs.IsControl() && len(r.Value) == 8 {
				w.Add(string(r.Key), time.UnixMilli(int64(binary.BigEndian.Uint64(r.Value))))
			}
		})
	}
	return nil
}
