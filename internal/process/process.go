// Package process is the stage between sp.events and the per-destination
// topics. Per event it resolves the person (identity links), keeps and
// attaches click ids, browser ids and the CRM profile, applies consent,
// deduplicates per destination and routes, writing one record per
// (event, destination) to sp.out.<dest> and every decision to sp.outcomes.
//
// State is partition-local (internal/store): sp.events is keyed by the
// person's highest-ranked identifier, so a person's events meet in one
// partition, and the stage's state for that partition lives in a Pebble
// database mirrored to the changelog topic sp.state.process.
//
// Identity across partitions: ingest is stateless and keys by the best
// identifier an event carries (user id > anonymous id > external id >
// email). When an event carries a lower-ranked identifier S that its person
// K has not linked yet, the stage does not process it at once: it sends a
// link record (carrying the event) to S's partition via sp.events. There
// the alias S→K is stored, S's state (clicks, profile, stats) is moved into
// a merge record sent back to K's partition, which folds it in and only then
// processes the carried event — so the sign-up that first names both the
// web visitor and the user gets the web click's fbc. S's dedupe marks travel
// in the merge record too (marks.go), so a duplicate later keyed by K is
// caught. Later events keyed by S find the alias and are forwarded to K.
// Links only point to a higher rank, so forwarding never loops (it is also
// capped at maxHops).
//
// Why offsets are safe: each batch runs inside one Kafka transaction
// (kafkax.TransactLoop) that produces the sp.out.<dest> records, outcomes,
// link/merge/forward records, the state changelog records and the offset
// commit together. Local state is applied only after the commit (AfterBatch).
package process

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// Headers on the records the stage writes to sp.events for itself.
const (
	HeaderKind = "sp.kind"
	HeaderHops = "sp.hops"
	// HeaderRank is the rank of the identifier a forwarded event was sent
	// to (ingest.Identity.Rank).
	HeaderRank = "sp.rank"
)

// Kinds of internal sp.events records (HeaderKind); ingest's records have
// none.
const (
	KindForward = "forward" // an event re-keyed to the person its key is linked to
	KindLink    = "link"    // "store the alias S→K and send S's state to K"
	KindMerge   = "merge"   // S's state for K, with the event that caused the link
	KindRelease = "release" // a delivery ended rejected or expired: release its dedupe keys
)

// maxHops bounds forwarding chains; ranks make loops impossible, this
// bounds the damage of a bug.
const maxHops = 8

// Store key prefixes.
const (
	prefixPerson = 'p' // the person, or the alias of a linked key
	prefixDedupe = 'd'
	// prefixMarkIndex indexes marks by the person they follow (marks.go).
	prefixMarkIndex = 'm'
)

// StoreName names the stage's store; its changelog is sp.state.process.
const StoreName = "process"

// Route sends events a rule accepts to a destination, optionally under a
// platform event name.
type Route struct {
	Destination string
	// As is the platform event name; empty keeps the destination's mapping.
	As      string
	Accepts func(ev *event.Event) bool
}

// Consent policies (see config.Policies), plus send for granted consent.
const (
	PolicySend             = "send"
	PolicyDrop             = "drop"
	PolicyStripIdentifiers = "strip_identifiers"
	PolicySendWithFlags    = "send_with_flags"
)

// Config is what the stage needs.
type Config struct {
	Routes []Route
	Topics kafkax.Topics
	Store  *store.Store
	// DedupeWindow is how long a marked key blocks a resend.
	DedupeWindow time.Duration
	// ClickIDWindows are attribution windows by id name (gclid, fbclid, …).
	ClickIDWindows map[string]time.Duration
	// ConsentPolicy returns the destination's policy for denied and for
	// unknown ad_user_data consent.
	ConsentPolicy func(dest string) (denied, unknown string)
	// SweepPerBatch bounds how many dedupe marks one batch looks at for
	// age-out; a tenth as many people are looked at.
	SweepPerBatch int
	// PersonTTL is how long a person unseen is kept (their clicks, profile
	// and links); it bounds the store by the people active within it.
	PersonTTL time.Duration
	// StateWait bounds how long a batch waits for a partition's state
	// (restoring, or failing to open); past it that partition's events are
	// processed without state (degraded.go). Zero waits without bound and
	// fails the batch when the state cannot be opened; NoStateWait never
	// waits for a restore.
	StateWait time.Duration
	Clock     func() time.Time
	Logger    *slog.Logger
}

// Stage is the process stage.
type Stage struct {
	cfg Config
	// cursor is where each partition's dedupe sweep goes on from; it is
	// only a position, so losing it (a restart) costs one extra walk.
	cursor map[int32][]byte
	// personCursor is the same for the walk over people.
	personCursor map[int32][]byte
	// filters know which dedupe keys each open partition may hold.
	filters map[*store.Partition]*seenFilter
	// degraded are the partitions whose events the last batch that had
	// them processed without state, and why; for logging the change.
	degraded map[int32]string
}

// New returns the stage.
func New(cfg Config) *Stage {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = 7 * 24 * time.Hour
	}
	if cfg.SweepPerBatch <= 0 {
		cfg.SweepPerBatch = 1000
	}
	if cfg.PersonTTL <= 0 {
		cfg.PersonTTL = 400 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ConsentPolicy == nil {
		cfg.ConsentPolicy = func(string) (string, string) { return PolicyDrop, PolicyStripIdentifiers }
	}
	return &Stage{cfg: cfg, cursor: map[int32][]byte{}, personCursor: map[int32][]byte{}, filters: map[*store.Partition]*seenFilter{}, degraded: map[int32]string{}}
}

// Topics are the topics the stage consumes: sp.events, and sp.dlq for the
// deliver stage's dead letters, which release dedupe keys.
func (s *Stage) Topics() []string {
	return []string{s.cfg.Topics.Events(), s.cfg.Topics.DLQ()}
}

// AfterBatch makes the batch's state writes durable locally when its
// transaction committed, and drops them when it aborted.
func (s *Stage) AfterBatch(committed bool) {
	if committed {
		// An error leaves the partition closed; it is caught up from the
		// changelog when next used, so nothing is lost.
		_ = s.cfg.Store.Commit()
		return
	}
	s.cfg.Store.Discard()
}

// batch is the state of one Handle call.
type batch struct {
	ctx     context.Context
	out     *kafkax.Output
	now     time.Time
	touched map[int32]*store.Partition
	// unavailable are the partitions whose state this batch goes without,
	// and why (event.DegradedStateUnavailable, …); deadline is when the
	// batch stops waiting for state.
	unavailable map[int32]string
	deadline    time.Time
}

// Handle is the kafkax.Handler for the stage.
func (s *Stage) Handle(ctx context.Context, recs []*kgo.Record, out *kafkax.Output) error {
	return s.dropFailing(s.handle(ctx, recs, out))
}

func (s *Stage) handle(ctx context.Context, recs []*kgo.Record, out *kafkax.Output) error {
	b := &batch{ctx: ctx, out: out, now: s.cfg.Clock(), touched: map[int32]*store.Partition{}, unavailable: map[int32]string{}}
	if s.cfg.StateWait != 0 {
		b.deadline = time.Now().Add(max(s.cfg.StateWait, 0))
		s.prepare(recs)
	}
	decoded := s.decode(recs)
	for i, rec := range recs {
		if rec.Topic == s.cfg.Topics.DLQ() {
			s.deadLetter(b, rec)
			continue
		}
		pt, err := s.partition(b, rec.Partition)
		if err != nil {
			return err
		}
		if pt != nil {
			b.touched[rec.Partition] = pt
		}
		if err := s.record(b, pt, rec, decoded[i]); err != nil {
			return err
		}
	}
	s.logDegraded(b)
	for id, pt := range b.touched {
		if err := s.sweep(b, id, pt); err != nil {
			return err
		}
		if err := s.forget(b, id, pt); err != nil {
			return err
		}
	}
	return nil
}

// decoded is an event record decoded ahead of its turn.
type decoded struct {
	ev  *event.Event
	err error
}

// decode decodes the batch's event records on every core before they are
// handled in order: decoding is a third of the stage's work and needs no
// state. Internal records are decoded in turn.
func (s *Stage) decode(recs []*kgo.Record) []decoded {
	out := make([]decoded, len(recs))
	workers := min(runtime.GOMAXPROCS(0), 1+len(recs)/64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				r := recs[i]
				if r.Topic != s.cfg.Topics.Events() || kafkax.Header(r, HeaderKind) != "" {
					continue
				}
				ev := new(event.Event)
				out[i] = decoded{ev: ev, err: json.Unmarshal(r.Value, ev)}
			}
		}()
	}
	wg.Wait()
	return out
}

// record handles one sp.events record; d is the event, when decoded ahead.
// A nil pt means the partition's state is unavailable: an event is then
// processed without it, an internal record waits (degraded.go).
func (s *Stage) record(b *batch, pt *store.Partition, rec *kgo.Record, d decoded) error {
	hops, _ := strconv.Atoi(kafkax.Header(rec, HeaderHops))
	rank, _ := strconv.Atoi(kafkax.Header(rec, HeaderRank))
	kind := kafkax.Header(rec, HeaderKind)
	if pt == nil && kind != "" {
		s.requeue(b, rec)
		return nil
	}
	switch kind {
	case KindLink:
		var m linkMsg
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			return nil // not ours to fail on: an internal record we cannot read carries no input record's fate
		}
		return s.link(b, pt, string(rec.Key), m, hops)
	case KindMerge:
		var m mergeMsg
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			return nil
		}
		return s.merge(b, pt, string(rec.Key), rank, m, hops)
	case KindRelease:
		var m releaseMsg
		if err := json.Unmarshal(rec.Value, &m); err != nil {
			return nil
		}
		return s.release(b, pt, string(rec.Key), rec.Value, m, hops)
	}
	ev := d.ev
	if ev == nil {
		ev = new(event.Event)
		d.err = json.Unmarshal(rec.Value, ev)
	}
	if d.err != nil {
		s.corrupt(b, rec)
		return nil
	}
	key := string(rec.Key)
	if key == "" {
		key = string(ingest.IdentityKey(ev))
	}
	if pt == nil {
		return s.stateless(b, rec.Partition, key, ev)
	}
	return s.event(b, pt, key, rank, ev, rec.Value, hops)
}

func (s *Stage) corrupt(b *batch, rec *kgo.Record) {
	origin := event.Origin{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
	o := event.Outcome{Record: origin.String(), Status: event.StatusInvalid, Reason: "corrupt_record", Detail: "undecodable record on " + rec.Topic, At: b.now}
	b.out.Produce(kafkax.OutcomeRecord(s.cfg.Topics.Outcomes(), o))
	b.out.Produce(kafkax.DLQRecord(s.cfg.Topics.DLQ(), rec.Key, rec.Value, kafkax.DeadLetter{Stage: "process", Reason: o.Reason, Detail: o.Detail, Origin: origin}))
}

// internal produces a record to sp.events for the stage itself.
func (s *Stage) internal(b *batch, key, kind string, hops, rank int, v []byte) {
	b.out.Produce(&kgo.Record{Topic: s.cfg.Topics.Events(), Key: []byte(key), Value: v, Headers: []kgo.RecordHeader{
		{Key: HeaderKind, Value: []byte(kind)},
		{Key: HeaderHops, Value: []byte(strconv.Itoa(hops))},
		{Key: HeaderRank, Value: []byte(strconv.Itoa(rank))},
	}})
}

// A key's entry holds either the person (JSON) or, once the key is linked
// to a higher-ranked one, the alias: aliasMarker, the target's rank and its
// key. One entry, so one lookup per event answers both questions.
const aliasMarker = 0x01

func encodeAlias(rank int, to string) []byte {
	return append([]byte{aliasMarker, byte(rank)}, to...)
}

func personKey(k string) []byte { return append([]byte{prefixPerson}, k...) }

// entry is what the store holds for one key.
type entry struct {
	aliasRank int
	aliasTo   string // set when the key is linked onward
	person    *person
	raw       []byte // the person as stored, to skip rewriting it unchanged
}

func (s *Stage) lookup(pt *store.Partition, k string) (entry, error) {
	raw, _, err := pt.Get(personKey(k))
	if err != nil {
		return entry{}, err
	}
	if len(raw) >= 2 && raw[0] == aliasMarker {
		return entry{aliasRank: int(raw[1]), aliasTo: string(raw[2:]), person: &person{}}, nil
	}
	p, err := decodePerson(raw)
	if err != nil {
		// A record we cannot read is state we cannot use; start afresh
		// rather than stop the partition.
		p = &person{}
	}
	return entry{person: p, raw: raw}, nil
}

func (s *Stage) savePerson(b *batch, pt *store.Partition, k string, p *person, before []byte) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if string(v) == string(before) {
		return nil
	}
	return pt.Set(b.out, personKey(k), v)
}

// event handles an event keyed (or forwarded) to person k, whose rank is
// known from the event itself or, for a forwarded one, from its header.
func (s *Stage) event(b *batch, pt *store.Partition, k string, rank int, ev *event.Event, raw []byte, hops int) error {
	e, err := s.lookup(pt, k)
	if err != nil {
		return err
	}
	if e.aliasTo != "" && hops < maxHops {
		s.internal(b, e.aliasTo, KindForward, hops+1, e.aliasRank, raw)
		return nil
	}
	p, before := e.person, e.raw
	ids := ingest.Identities(ev)
	if len(ids) > 0 && ids[0].Key == k {
		rank = ids[0].Rank
	}
	if len(ids) > 1 && hops < maxHops {
		for _, id := range ids[1:] {
			if id.Key == k || id.Rank >= rank || p.linked(id.Key) {
				continue
			}
			m, _ := json.Marshal(linkMsg{To: k, ToRank: rank, Event: raw})
			s.internal(b, id.Key, KindLink, hops+1, id.Rank, m)
			// The link is on its way in this transaction: the person's
			// events that come before its merge need not send it again,
			// and go at once with the state at hand. In a backlog, where
			// a person's next events arrive before the round trip ends,
			// each used to send its own link.
			p.link(id.Key)
			if err := s.savePerson(b, pt, k, p, before); err != nil {
				return err
			}
			return nil // processed when the merge comes back
		}
	}

	prevPurchases, prevBuy := p.Purchases, p.LastBuy
	if isWithdrawal(ev, p) {
		s.withdrawal(b, pt.ID(), k, ev.EventTime)
	}
	p.observe(ev)
	if isConversion(ev) {
		p.Purchases++
		p.Revenue += *ev.Properties.Value
		p.LastBuy = max(p.LastBuy, ev.EventTime.UnixMilli())
	}
	p.attach(ev, s.cfg.ClickIDWindows, prevPurchases, prevBuy)
	enrichment(ev).Identity = k
	if len(ids) > 0 { // an event with no identifier has no one to remember
		// Seen moves in coarse steps, so a busy person is not rewritten
		// for that alone.
		if seen := b.now.UnixMilli(); seen-p.Seen > time.Hour.Milliseconds() {
			p.Seen = seen
		}
		if err := s.savePerson(b, pt, k, p, before); err != nil {
			return err
		}
	}
	return s.route(b, pt, ev, p, markOwner(k, rank))
}

// linkMsg asks S's partition to alias S to To and send S's state there.
type linkMsg struct {
	To     string          `json:"to"`
	ToRank int             `json:"rank"`
	Event  json.RawMessage `json:"event,omitempty"`
}

// mergeMsg brings S's state to the person it was linked to. With Redirect
// set, S was already linked to a higher-ranked person: the receiver links
// itself there too and passes its own state and the event on.
type mergeMsg struct {
	From         string          `json:"from"`
	State        json.RawMessage `json:"state,omitempty"`
	Event        json.RawMessage `json:"event,omitempty"`
	Redirect     string          `json:"redirect,omitempty"`
	RedirectRank int             `json:"redirect_rank,omitempty"`
	// Marks are S's live dedupe marks (marks.go), written in K's
	// partition with the state.
	Marks []movedMark `json:"marks,omitempty"`
}

// link runs in S's partition: alias S to m.To and hand S's state to To. If
// S is already linked to someone else, the higher-ranked of the two wins: a
// CRM contact (external id) whose email already belongs to a user is
// redirected to that user; a user claiming an email that a CRM contact held
// takes it, and the contact is linked to the user too; between equals the
// first link stays.
func (s *Stage) link(b *batch, pt *store.Partition, from string, m linkMsg, hops int) error {
	reply := mergeMsg{From: from, Event: m.Event}
	e, err := s.lookup(pt, from)
	if err != nil {
		return err
	}
	if e.aliasTo != "" && e.aliasTo != m.To {
		switch {
		case e.aliasRank > m.ToRank:
			reply.Redirect, reply.RedirectRank = e.aliasTo, e.aliasRank
		case e.aliasRank < m.ToRank && hops < maxHops:
			// S belonged to a lower-ranked key T (a CRM contact seen
			// before the user): S and T are To's now, T with its state.
			if err := pt.Set(b.out, personKey(from), encodeAlias(m.ToRank, m.To)); err != nil {
				return err
			}
			v, _ := json.Marshal(linkMsg{To: m.To, ToRank: m.ToRank})
			s.internal(b, e.aliasTo, KindLink, hops+1, e.aliasRank, v)
		}
	} else if e.aliasTo == "" {
		if err := pt.Set(b.out, personKey(from), encodeAlias(m.ToRank, m.To)); err != nil {
			return err
		}
		reply.State = e.raw // the person moves to To; the alias took its place here
		if reply.Marks, err = s.takeMarks(b, pt, from); err != nil {
			return err
		}
	}
	v, _ := json.Marshal(reply)
	s.internal(b, m.To, KindMerge, hops+1, m.ToRank, v)
	return nil
}

// merge runs in K's partition: fold S's state in, then process the event
// that caused the link.
func (s *Stage) merge(b *batch, pt *store.Partition, k string, rank int, m mergeMsg, hops int) error {
	e, err := s.lookup(pt, k)
	if err != nil {
		return err
	}
	if e.aliasTo != "" && hops < maxHops {
		// K itself was linked onward meanwhile: its state lives there now.
		v, _ := json.Marshal(m)
		s.internal(b, e.aliasTo, KindMerge, hops+1, e.aliasRank, v)
		return nil
	}
	if m.Redirect != "" && m.Redirect != k && m.RedirectRank > rank && hops < maxHops {
		// K is the same person as the one S already belongs to: link K
		// there and move K's state and the event along.
		if err := pt.Set(b.out, personKey(k), encodeAlias(m.RedirectRank, m.Redirect)); err != nil {
			return err
		}
		marks, err := s.takeMarks(b, pt, k)
		if err != nil {
			return err
		}
		// m.Marks are S's, which belongs to the redirect target already;
		// they go there with K's.
		v, _ := json.Marshal(mergeMsg{From: k, State: e.raw, Event: m.Event, Marks: append(marks, m.Marks...)})
		s.internal(b, m.Redirect, KindMerge, hops+1, m.RedirectRank, v)
		return nil
	}
	p, before := e.person, e.raw
	if len(m.State) > 0 {
		if o, err := decodePerson(m.State); err == nil {
			p.merge(o)
		}
	}
	p.link(m.From)
	p.Seen = b.now.UnixMilli()
	if err := s.savePerson(b, pt, k, p, before); err != nil {
		return err
	}
	if err := s.placeMarks(b, pt, m.Marks, markOwner(k, rank)); err != nil {
		return err
	}
	if len(m.Event) == 0 {
		return nil
	}
	var ev event.Event
	if err := json.Unmarshal(m.Event, &ev); err != nil {
		return nil
	}
	return s.event(b, pt, k, rank, &ev, m.Event, hops)
}
