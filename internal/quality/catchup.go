package quality

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// CatchUp tells when Follow has read what sp.outcomes held when the process
// started. Until then the aggregates are still being rebuilt (the recent
// windows look empty), so alert rules must not judge them: a volume_drop
// rule would fire on every restart.
//
// A partition is caught up when the follower has read up to the end offset
// it had at start (less one for the commit marker that ends a
// transaction), or has read a record written after the start (it is at the
// tail), or was empty. A partition whose tail is an aborted transaction
// reaches neither until new outcomes arrive, so after maxWait a partition
// also counts once the follower is within abortedTail offsets of its end:
// far enough for any aborted batch, near enough that a long replay (a
// week of outcomes can take many minutes) is not cut short.
type CatchUp struct {
	start time.Time

	mu   sync.Mutex
	end  map[int32]int64 // partitions not yet caught up → end offset at start
	done bool
	// seen is the highest offset read per partition, and tail the
	// partitions where a record written after the start was read: what
	// Follow read before the offsets were listed still counts.
	seen map[int32]int64
	tail map[int32]bool
}

// NewCatchUp starts tracking at now (the process's start); Listen fills in
// the end offsets.
func NewCatchUp(now time.Time) *CatchUp {
	return &CatchUp{start: now, seen: map[int32]int64{}, tail: map[int32]bool{}}
}

// Listen lists the topic's offsets (retrying until ctx ends), then gives up
// waiting after maxWait.
func (c *CatchUp) Listen(ctx context.Context, adm *kadm.Client, topic string, maxWait time.Duration, log *slog.Logger) {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		starts, err := adm.ListStartOffsets(ctx, topic)
		var ends kadm.ListedOffsets
		if err == nil {
			ends, err = adm.ListEndOffsets(ctx, topic)
		}
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			c.setEnds(starts, ends)
			break
		}
		if log != nil && ctx.Err() == nil {
			// The topic may not exist yet on a first start: say so only
			// when it lasts.
			lvl := slog.LevelDebug
			if attempt >= 5 {
				lvl = slog.LevelWarn
			}
			log.Log(ctx, lvl, "listing sp.outcomes offsets to know when the report has caught up", "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(maxWait):
	}
	for !c.settle() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// abortedTail bounds the offsets an aborted transaction at a partition's end
// can take: one batch of a stage's poll_records (at most 100 000) with its
// outcomes.
const abortedTail = 250_000

// settle marks the partitions within abortedTail of their end as caught up,
// and reports whether all are.
func (c *CatchUp) settle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end == nil {
		return false
	}
	for p, e := range c.end {
		if off, ok := c.seen[p]; ok && off+abortedTail >= e {
			delete(c.end, p)
		}
	}
	c.done = c.done || len(c.end) == 0
	return c.done
}

func (c *CatchUp) setEnds(starts, ends kadm.ListedOffsets) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, ok := starts.Lookup(o.Topic, o.Partition)
		if o.Offset > 0 && (!ok || o.Offset > s.Offset) && !c.reached(o.Partition, o.Offset) {
			pending[o.Partition] = o.Offset
		}
	})
	c.end = pending
	c.done = len(c.end) == 0
}

// Resumed tells that Follow starts at from (Monitor.ResumeOffsets) rather
// than at the start: what lies below was counted by the restored snapshot,
// so a partition whose offset is already at its end is caught up.
func (c *CatchUp) Resumed(from map[int32]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, o := range from {
		if o > 0 {
			c.seen[p] = max(c.seen[p], o-1)
		}
	}
	if c.end == nil || c.done {
		return
	}
	for p, e := range c.end {
		if c.reached(p, e) {
			delete(c.end, p)
		}
	}
	c.done = len(c.end) == 0
}

// see records that the follower read offset off of partition p, written at ts.
func (c *CatchUp) see(p int32, off int64, ts time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.seen[p] = max(c.seen[p], off)
	if !ts.Before(c.start) {
		c.tail[p] = true
	}
	if c.end == nil {
		return // setEnds will judge what was seen
	}
	if e, ok := c.end[p]; ok && c.reached(p, e) {
		delete(c.end, p)
		c.done = len(c.end) == 0
	}
}

// reached reports whether partition p has been read to end (less one for a
// transaction's commit marker) or to records written after the start.
func (c *CatchUp) reached(p int32, end int64) bool {
	off, ok := c.seen[p]
	return c.tail[p] || (ok && off+2 >= end)
}

// Done reports whether the follower has caught up.
func (c *CatchUp) Done() bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}
