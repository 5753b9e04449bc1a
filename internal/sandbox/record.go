package sandbox

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// requestCounters are the per-request counts every platform keeps. They are
// atomics so the hot path does not take the event log's lock for them.
type requestCounters struct {
	requests atomic.Int64 // every request that reached the platform's API
	rejected atomic.Int64 // answered with a contract error
	faulted  atomic.Int64 // answered by an injected fault instead of processed
}

// eventLog is the recording shared by every platform: it stores accepted
// events up to a bound, counts those it no longer stores, and remembers the
// dedupe keys it has seen so that resent events are counted as duplicates.
//
// Dedupe keys are 64-bit hashes (collisions are negligible at the volumes a
// sandbox sees) kept until Reset, about 10 bytes each, so the duplicate count
// stays exact even after storage is full.
type eventLog[R any] struct {
	requestCounters
	max  int
	seed maphash.Seed

	mu         sync.Mutex
	records    []R
	seen       map[uint64]struct{}
	accepted   int64
	duplicates int64
	dropped    int64
}

// logCounts is a consistent snapshot of an eventLog's counters.
type logCounts struct {
	requests, accepted, rejected, faulted, duplicates, dropped int64
}

func newEventLog[R any](maxRecorded int) *eventLog[R] {
	return &eventLog[R]{
		max:  maxRecorded,
		seed: maphash.MakeSeed(),
		seen: make(map[uint64]struct{}),
	}
}

// dedupeKey returns the key under which an event counts as a duplicate of an
// earlier one with the same parts. 0 is reserved for "no key".
func (l *eventLog[R]) dedupeKey(parts [3]string) uint64 {
	k := maphash.Comparable(l.seed, parts)
	if k == 0 {
		k = 1
	}
	return k
}

// add records an accepted batch. keys[i] is batch[i]'s dedupe key, 0 when the
// event has none. The caller prepares everything, so the lock covers only map
// lookups and one append.
func (l *eventLog[R]) add(batch []R, keys []uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if k == 0 {
			continue
		}
		if _, dup := l.seen[k]; dup {
			l.duplicates++
		} else {
			l.seen[k] = struct{}{}
		}
	}
	n := len(batch)
	l.accepted += int64(n)
	store := min(max(l.max-len(l.records), 0), n)
	l.records = append(l.records, batch[:store]...)
	l.dropped += int64(n - store)
}

// all returns a copy of the stored records in arrival order.
func (l *eventLog[R]) all() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]R, len(l.records))
	copy(out, l.records)
	return out
}

// last returns, in arrival order, the last limit stored records for which
// match reports true (every record when match is nil).
func (l *eventLog[R]) last(limit int, match func(*R) bool) []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []R
	for i := len(l.records) - 1; i >= 0 && len(out) < limit; i-- {
		if match == nil || match(&l.records[i]) {
			out = append(out, l.records[i])
		}
	}
	slices.Reverse(out)
	return out
}

func (l *eventLog[R]) counts() logCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return logCounts{
		requests:   l.requests.Load(),
		accepted:   l.accepted,
		rejected:   l.rejected.Load(),
		faulted:    l.faulted.Load(),
		duplicates: l.duplicates,
		dropped:    l.dropped,
	}
}

// reset forgets every record, dedupe key and count.
func (l *eventLog[R]) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = nil
	l.seen = make(map[uint64]struct{})
	l.accepted, l.duplicates, l.dropped = 0, 0, 0
	l.requests.Store(0)
	l.rejected.Store(0)
	l.faulted.Store(0)
}
