package process

import (
	"context"
	"encoding/binary"
	"log/slog"
	"sync"
	"time"

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
	mu sync.RWMutex
	at map[string]int64 // person key → withdrawal event time, Unix ms
}

// NewWithdrawals returns an empty table.
func NewWithdrawals() *Withdrawals { return &Withdrawals{at: map[string]int64{}} }

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
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		for _, fe := range fs.Errors() {
			if ctx.Err() == nil && log != nil {
				log.Warn("reading withdrawals", "topic", fe.Topic, "err", fe.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Value) == 8 {
				w.Add(string(r.Key), time.UnixMilli(int64(binary.BigEndian.Uint64(r.Value))))
			}
		})
	}
	return nil
}
