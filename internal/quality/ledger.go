// Package quality reads sp.outcomes and keeps what the reports are made of.
// The Ledger is the first piece: counts per outcome, source, destination and
// reason, and — when asked to track records — the check that every input
// record has exactly one terminal outcome per destination it was routed to.
//
// The aggregates outlive sp.outcomes' retention in snapshots (snapshot.go),
// and this order makes them count every outcome once: Follow adds a poll's
// records and advances the per-partition offsets under the Monitor's fold
// lock, and a snapshot is captured under the same lock, so its windows hold
// exactly the outcomes below its offsets; a replica restores the snapshot
// before Follow starts, and Follow then counts only records at or above
// those offsets (the ones below feed the trace index alone). The leader
// writes a snapshot's chunks, then its manifest, and deletes the chunks the
// manifest no longer names only after the manifest is acknowledged, so the
// newest manifest never names a chunk that is gone.
package quality

import (
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Counts is a count per outcome status.
type Counts map[event.Status]int64

// Ledger aggregates outcomes. It is safe for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	track    bool
	records  map[string]*recordState
	total    Counts
	bySource map[string]Counts
	byDest   map[string]Counts
	reasons  map[string]map[string]int64
	// expected counts the terminal outcomes owed: one per record that ended
	// before routing, one per destination for routed records.
	expected int64
	terminal int64
	// complete counts tracked records whose terminal outcomes are all in,
	// kept as outcomes arrive so waiting for a balance costs nothing.
	complete   int64
	routed     int64
	duplicates int64
	first      time.Time
	last       time.Time
}

type recordState struct {
	routed bool
	dests  []string
	// done holds the terminal status per destination ("" before routing).
	done map[string]event.Status
}

// NewLedger returns an empty ledger; with track it remembers every record,
// which the bounded --once demo and the tests need.
func NewLedger(track bool) *Ledger {
	l := &Ledger{track: track, total: Counts{}, bySource: map[string]Counts{}, byDest: map[string]Counts{}, reasons: map[string]map[string]int64{}}
	if track {
		l.records = map[string]*recordState{}
	}
	return l
}

// Add accounts for one outcome.
func (l *Ledger) Add(o event.Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first.IsZero() || o.At.Before(l.first) {
		l.first = o.At
	}
	if o.At.After(l.last) {
		l.last = o.At
	}
	if o.Status == event.StatusRouted {
		l.routed++
		l.expected += int64(len(o.Destinations))
		if l.track {
			st := l.state(o.Record)
			was := complete(st)
			if st.routed {
				l.duplicates++
			}
			st.routed, st.dests = true, o.Destinations
			l.recount(was, st)
		}
		return
	}
	if !o.Status.Terminal() {
		return
	}
	l.terminal++
	if o.Destination == "" {
		l.expected++ // ended before routing
	}
	l.total[o.Status]++
	src := string(o.Source)
	if src == "" {
		src = "unknown"
	}
	bump(l.bySource, src, o.Status)
	if o.Destination != "" {
		bump(l.byDest, o.Destination, o.Status)
	}
	if o.Reason != "" && o.Status != event.StatusDelivered {
		key := o.Destination
		if key == "" {
			key = "ingest"
		}
		if l.reasons[key] == nil {
			l.reasons[key] = map[string]int64{}
		}
		l.reasons[key][string(o.Status)+": "+o.Reason]++
	}
	if l.track {
		st := l.state(o.Record)
		was := complete(st)
		if _, dup := st.done[o.Destination]; dup {
			l.duplicates++
		}
		st.done[o.Destination] = o.Status
		l.recount(was, st)
	}
}

// recount keeps complete right after st changed; was is whether st was
// complete before.
func (l *Ledger) recount(was bool, st *recordState) {
	switch now := complete(st); {
	case now && !was:
		l.complete++
	case was && !now:
		l.complete--
	}
}

func (l *Ledger) state(rec string) *recordState {
	st := l.records[rec]
	if st == nil {
		st = &recordState{done: map[string]event.Status{}}
		l.records[rec] = st
	}
	return st
}

func bump(m map[string]Counts, k string, s event.Status) {
	c := m[k]
	if c == nil {
		c = Counts{}
		m[k] = c
	}
	c[s]++
}

// Snapshot is a copy of the ledger's figures.
type Snapshot struct {
	Outcomes      Counts                      `json:"outcomes"`
	BySource      map[string]Counts           `json:"by_source"`
	ByDestination map[string]Counts           `json:"by_destination"`
	Reasons       map[string]map[string]int64 `json:"reasons"`
	Routed        int64                       `json:"routed"`
	Terminal      int64                       `json:"terminal"`
	// Expected is the number of terminal outcomes owed for the records
	// seen so far; Terminal < Expected means some are still in flight.
	Expected int64 `json:"expected"`
	// Complete is the number of tracked records with all their terminal
	// outcomes (zero when the ledger does not track records).
	Complete   int64     `json:"complete,omitempty"`
	Duplicates int64     `json:"duplicates"`
	First      time.Time `json:"first,omitzero"`
	Last       time.Time `json:"last,omitzero"`
}

// Snapshot returns the current figures.
func (l *Ledger) Snapshot() Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Snapshot{
		Outcomes: maps.Clone(l.total), BySource: cloneNested(l.bySource), ByDestination: cloneNested(l.byDest), Reasons: cloneNested(l.reasons),
		Routed: l.routed, Terminal: l.terminal, Expected: l.expected, Complete: l.complete, Duplicates: l.duplicates, First: l.first, Last: l.last,
	}
}

// cloneNested copies a map of maps, never nil.
func cloneNested[M ~map[K]V, K comparable, V any](in map[string]M) map[string]M {
	out := make(map[string]M, len(in))
	for k, v := range in {
		out[k] = maps.Clone(v)
	}
	return out
}

// Check compares the tracked records with the input records that were
// produced. It lists records without a complete set of terminal outcomes and
// outcomes for records that were never produced. It needs tracking.
func (l *Ledger) Check(inputs []string) Balance {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := Balance{Inputs: len(inputs), Duplicates: l.duplicates}
	want := make(map[string]bool, len(inputs))
	for _, rec := range inputs {
		want[rec] = true
		st := l.records[rec]
		if st == nil || !complete(st) {
			b.Incomplete = append(b.Incomplete, rec)
		}
	}
	for rec := range l.records {
		if !want[rec] {
			b.Unknown = append(b.Unknown, rec)
		}
	}
	sort.Strings(b.Incomplete)
	sort.Strings(b.Unknown)
	b.Balanced = len(b.Incomplete) == 0 && len(b.Unknown) == 0 && b.Duplicates == 0
	return b
}

// complete reports whether a record has every terminal outcome it owes.
func complete(st *recordState) bool {
	if !st.routed {
		_, ok := st.done[""]
		return ok && len(st.done) == 1
	}
	if _, pre := st.done[""]; pre {
		return false // both ended before routing and routed
	}
	if len(st.done) != len(st.dests) {
		return false
	}
	for _, d := range st.dests {
		if _, ok := st.done[d]; !ok {
			return false
		}
	}
	return true
}

// Balance is the result of Check.
type Balance struct {
	Inputs     int      `json:"inputs"`
	Balanced   bool     `json:"balanced"`
	Incomplete []string `json:"incomplete,omitempty"`
	Unknown    []string `json:"unknown,omitempty"`
	Duplicates int64    `json:"duplicates"`
}

// restore replaces the ledger's counters with a snapshot's (the quality
// stage's durable snapshot, see snapshot.go). Tracked records are not part
// of a snapshot: a tracking ledger (the bounded demo, tests) is never
// restored.
func (l *Ledger) restore(s Snapshot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total = Counts{}
	maps.Copy(l.total, s.Outcomes)
	l.bySource, l.byDest, l.reasons = cloneNested(s.BySource), cloneNested(s.ByDestination), cloneNested(s.Reasons)
	l.routed, l.terminal, l.expected, l.duplicates, l.first, l.last = s.Routed, s.Terminal, s.Expected, s.Duplicates, s.First, s.Last
}
