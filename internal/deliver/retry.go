package deliver

import (
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// The retry queue. An event whose platform answered "try again later" for
// that event alone (a per-event retryable result, e.g. Google's TOO_RECENT_*)
// would block its whole batch if it were retried in place, and would be lost
// if it were kept in memory. It goes to the destination's next retry tier
// instead, sp.retry.<dest>.<tier>, in the same transaction that commits the
// record it came from, with these headers:
const (
	// HeaderAttempts counts the sends so far.
	HeaderAttempts = "sp.retry.attempts"
	// HeaderFirstFailure is when the first retryable answer came (RFC 3339).
	HeaderFirstFailure = "sp.retry.first_failure"
	// HeaderLastReason and HeaderLastDetail are the latest answer.
	HeaderLastReason = "sp.retry.last_reason"
	HeaderLastDetail = "sp.retry.last_detail"
	// HeaderDue is the earliest time the event may be sent again (RFC 3339).
	HeaderDue = "sp.retry.due"
	// HeaderTier is the index of the tier the record is in.
	HeaderTier = "sp.retry.tier"
)

// DefaultTiers are the retry delays when the config names none.
var DefaultTiers = []time.Duration{30 * time.Second, 5 * time.Minute, time.Hour, 6 * time.Hour}

// TierName is a tier's part of its topic name: its delay, e.g. "30s", "5m",
// "1h", "6h", "1h30m".
func TierName(d time.Duration) string {
	s := d.String()
	// time.Duration renders 5m0s and 1h0m0s; topic names read better short.
	for _, suffix := range []string{"m0s", "h0m"} {
		for len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

// RetryTopics lists the destination's retry topics, one per tier.
func RetryTopics(topics kafkax.Topics, dest string, tiers []time.Duration) []string {
	out := make([]string, len(tiers))
	for i, d := range tiers {
		out[i] = topics.Retry(dest, TierName(d))
	}
	return out
}

// retryState is what a retry record's headers say about its event.
type retryState struct {
	attempts     int
	firstFailure time.Time
	due          time.Time
	tier         int // -1: not from a retry topic
}

func readRetryState(r *kgo.Record) retryState {
	st := retryState{tier: -1}
	if v := kafkax.Header(r, HeaderTier); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			st.tier = n
		}
	}
	if v := kafkax.Header(r, HeaderAttempts); v != "" {
		st.attempts, _ = strconv.Atoi(v)
	}
	st.firstFailure, _ = time.Parse(time.RFC3339Nano, kafkax.Header(r, HeaderFirstFailure))
	st.due, _ = time.Parse(time.RFC3339Nano, kafkax.Header(r, HeaderDue))
	return st
}

// nextTier returns the first tier after the current one whose delay covers
// the platform's Retry-After, or -1 when none is left.
func (s *Stage) nextTier(current int, after time.Duration) int {
	for i := current + 1; i < len(s.cfg.Tiers); i++ {
		if s.cfg.Tiers[i] >= after || i == len(s.cfg.Tiers)-1 {
			return i
		}
	}
	return -1
}

// schedule puts an event that must be retried later into its next tier, or
// ends it (rejected, with a dead-letter record) when no tier is left or it
// would be too old by the time it is due.
func (s *Stage) schedule(out *kafkax.Output, it *item, now time.Time) {
	ev, r := it.ev, it.result
	attempts := it.state.attempts + it.attempts
	tier := s.nextTier(it.state.tier, r.RetryAfter)
	if tier < 0 {
		r.Detail = fmt.Sprintf("still failing after %d attempts over every retry tier: %s", attempts, r.Detail)
		r.Reason = "retries_exhausted:" + r.Reason
		s.finish(out, ev, r, event.StatusRejected, attempts, nil, now)
		return
	}
	due := now.Add(max(s.cfg.Tiers[tier], r.RetryAfter))
	if limit := s.limits.MaxEventAge(ev); due.Sub(ev.EventTime) > limit {
		r.Detail = fmt.Sprintf("the next retry (%s) would be past %s's age limit of %s: %s", due.Format(time.RFC3339), s.dest.Name(), limit, r.Detail)
		s.finish(out, ev, destination.Result{Status: destination.Rejected, Reason: "too_old", Detail: r.Detail}, event.StatusExpired, attempts, nil, now)
		return
	}
	out.Produce(s.retryRecord(ev.EventID, it.raw, it.state, attempts, tier, due, r.Reason, r.Detail, now))
	out.Produce(kafkax.OutcomeRecord(s.topics.Outcomes(), event.Outcome{
		Record: ev.Origin.String(), EventID: ev.EventID, EventName: ev.EventName, Source: ev.Source,
		Destination: s.dest.Name(), Status: event.StatusRetrying, Reason: r.Reason,
		Detail:   "retry " + TierName(s.cfg.Tiers[tier]) + " tier, due " + due.UTC().Format(time.RFC3339) + ": " + r.Detail,
		Attempts: attempts, EventTime: ev.EventTime, At: now,
	}))
}

// retryRecord is event id's record in retry tier tier, due then, after
// attempts sends; the first failure is kept from st when it had one.
func (s *Stage) retryRecord(id string, value []byte, st retryState, attempts, tier int, due time.Time, reason, detail string, now time.Time) *kgo.Record {
	first := st.firstFailure
	if first.IsZero() {
		first = now
	}
	return &kgo.Record{
		Topic: s.retryTopics[tier],
		Key:   []byte(id),
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderAttempts, Value: []byte(strconv.Itoa(attempts))},
			{Key: HeaderFirstFailure, Value: []byte(first.UTC().Format(time.RFC3339Nano))},
			{Key: HeaderLastReason, Value: []byte(reason)},
			{Key: HeaderLastDetail, Value: []byte(detail)},
			{Key: HeaderDue, Value: []byte(due.UTC().Format(time.RFC3339Nano))},
			{Key: HeaderTier, Value: []byte(strconv.Itoa(tier))},
		},
	}
}

// requeue puts a retry record that is not due yet back at the end of its
// own topic, unchanged. The transaction commits the consumed copy, so it is
// neither lost nor read twice; its partition is then held until it is due.
func requeue(out *kafkax.Output, r *kgo.Record, due time.Time) {
	// Same key, so the same partition: the hold below covers it.
	out.Produce(&kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers})
	out.Hold(r.Topic, r.Partition, due)
}
