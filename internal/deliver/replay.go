package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// Replay re-enqueues events that did not reach a destination: dead letters
// from its deliver stage (rejected, expired, …) or events waiting in its
// retry tiers. They are produced again to sp.out.<dest>, unchanged, so the
// deliver stage treats them like any other event; each keeps its event id,
// so a platform deduplicates one it already has, and replaying twice is
// safe. Input records that never became events (invalid JSON, schema
// violations) are not replayed: they need fixing at the source.

// Headers on a replayed record.
const (
	// HeaderReplayedFrom is the replayed record's "topic/partition/offset".
	HeaderReplayedFrom = "sp.replay.from"
	// HeaderReplayedAt is when it was replayed (RFC 3339).
	HeaderReplayedAt = "sp.replay.at"
)

// ReplayOptions selects what to replay.
type ReplayOptions struct {
	// From is "dlq" or "retry".
	From        string
	Destination string
	Topics      kafkax.Topics
	// Tiers are the retry tiers, for From "retry".
	Tiers []time.Duration
	// Since and Until bound the record time (zero: unbounded).
	Since, Until time.Time
	// Reason keeps records whose reason starts with it (case-insensitive).
	Reason string
	DryRun bool
	// Progress, when set, is told the counts now and then.
	Progress func(ReplaySummary)
	// Idle ends the scan when no record came for this long (default 2s).
	Idle time.Duration
}

// ReplaySummary counts what a replay read and moved.
type ReplaySummary struct {
	Scanned  int            `json:"scanned"`
	Matched  int            `json:"matched"`
	Moved    int            `json:"moved"`
	ByReason map[string]int `json:"by_reason"`
	Target   string         `json:"target"`
	DryRun   bool           `json:"dry_run"`
}

// Replay runs a replay with cl, a client with no consumer group: it reads
// the source topics from the start up to their ends as of the call (so what
// it produces itself is never read again) and produces matches to
// sp.out.<dest>.
func Replay(ctx context.Context, cl *kgo.Client, o ReplayOptions) (ReplaySummary, error) {
	sum := ReplaySummary{ByReason: map[string]int{}, Target: o.Topics.Out(o.Destination), DryRun: o.DryRun}
	var sources []string
	switch o.From {
	case "dlq":
		sources = []string{o.Topics.DLQ()}
	case "retry":
		sources = RetryTopics(o.Topics, o.Destination, o.Tiers)
	default:
		return sum, fmt.Errorf("--from: %q is not dlq or retry", o.From)
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Second
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, sources...)
	if err != nil {
		return sum, fmt.Errorf("reading the end offsets of %v: %w", sources, err)
	}
	if err := ends.Error(); err != nil {
		return sum, fmt.Errorf("reading the end offsets of %v: %w", sources, err)
	}
	parts := map[string]map[int32]kgo.Offset{}
	remaining := map[kafkax.TopicPartition]int64{}
	ends.Each(func(lo kadm.ListedOffset) {
		if lo.Offset <= 0 {
			return
		}
		if parts[lo.Topic] == nil {
			parts[lo.Topic] = map[int32]kgo.Offset{}
		}
		parts[lo.Topic][lo.Partition] = kgo.NewOffset().AtStart()
		remaining[kafkax.TopicPartition{Topic: lo.Topic, Partition: lo.Partition}] = lo.Offset
	})
	if len(remaining) == 0 {
		return sum, nil
	}
	cl.AddConsumePartitions(parts)
	defer cl.PurgeTopicsFromConsuming(sources...)

	var batch []*kgo.Record
	flush := func() error {
		if len(batch) == 0 || o.DryRun {
			batch = batch[:0]
			return nil
		}
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			return fmt.Errorf("producing to %s: %w", sum.Target, err)
		}
		sum.Moved += len(batch)
		batch = batch[:0]
		return nil
	}
	lastProgress := time.Now()
	for len(remaining) > 0 {
		pctx, cancel := context.WithTimeout(ctx, o.Idle)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return sum, fmt.Errorf("reading %s: %w", fe.Topic, fe.Err)
			}
		}
		if fs.NumRecords() == 0 {
			break // idle: what is left are transaction markers or aborted records
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			tp := kafkax.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			end, ok := remaining[tp]
			if !ok {
				return
			}
			if r.Offset+1 >= end {
				delete(remaining, tp)
			}
			if r.Offset >= end {
				return
			}
			sum.Scanned++
			reason, ok := o.match(r)
			if !ok {
				return
			}
			sum.Matched++
			sum.ByReason[reason]++
			batch = append(batch, &kgo.Record{
				Topic: sum.Target, Key: r.Key, Value: r.Value,
				Headers: []kgo.RecordHeader{
					{Key: HeaderReplayedFrom, Value: []byte(fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset))},
					{Key: HeaderReplayedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339))},
				},
			})
			if len(batch) >= 500 && ferr == nil {
				ferr = flush()
			}
		})
		if ferr != nil {
			return sum, ferr
		}
		if o.Progress != nil && time.Since(lastProgress) > 500*time.Millisecond {
			o.Progress(sum)
			lastProgress = time.Now()
		}
	}
	if err := flush(); err != nil {
		return sum, err
	}
	return sum, nil
}

// match reports whether r is to be replayed, and its reason.
func (o ReplayOptions) match(r *kgo.Record) (string, bool) {
	var reason string
	switch o.From {
	case "dlq":
		if kafkax.Header(r, kafkax.HeaderDestination) != o.Destination || kafkax.Header(r, kafkax.HeaderStage) != "deliver" {
			return "", false
		}
		reason = kafkax.Header(r, kafkax.HeaderReason)
	case "retry":
		reason = kafkax.Header(r, HeaderLastReason)
	}
	if !o.Since.IsZero() && r.Timestamp.Before(o.Since) {
		return "", false
	}
	if !o.Until.IsZero() && !r.Timestamp.Before(o.Until) {
		return "", false
	}
	if o.Reason != "" && !strings.HasPrefix(strings.ToLower(reason), strings.ToLower(o.Reason)) {
		return "", false
	}
	if reason == "" {
		reason = "(none)"
	}
	return reason, true
}
