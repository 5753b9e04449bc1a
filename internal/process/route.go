package process

import (
	"time"

	json "github.com/goccy/go-json"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/store"
)

// Outcome reasons the stage writes.
const (
	ReasonNoRoute          = "no_route"
	ReasonConsentDenied    = "consent_denied"
	ReasonConsentUnknown   = "consent_unknown"
	ReasonExcludedPrefix   = "excluded_" // + the exclusion: excluded_unsubscribed, …
	ReasonDuplicateEventID = "duplicate_event_id"
	ReasonDuplicateOrderID = "duplicate_order_id"
)

// decision is what consent allows for one destination.
type decision struct {
	policy string // PolicySend, PolicyDrop, PolicyStripIdentifiers or PolicySendWithFlags
	reason string // why, when not PolicySend
}

// consent decides for one destination. Standing exclusions from the CRM
// (unsubscribed, complaint, legal hold) drop the event; do-not-sell and a
// denied ad_user_data take the destination's denied policy; no signal takes
// its unknown policy.
func (s *Stage) consent(dest string, ev *event.Event, p *person) decision {
	denied, unknown := s.cfg.ConsentPolicy(dest)
	doNotSell := false
	for _, x := range p.Excl {
		if x == event.ExclusionDoNotSell {
			doNotSell = true
			continue
		}
		return decision{PolicyDrop, ReasonExcludedPrefix + x}
	}
	state := ""
	if ev.Consent != nil {
		state = ev.Consent.AdUserData
	}
	switch {
	case doNotSell:
		return decision{denied, ReasonExcludedPrefix + event.ExclusionDoNotSell}
	case state == event.ConsentDenied:
		return decision{denied, ReasonConsentDenied}
	case state == event.ConsentGranted:
		return decision{PolicySend, ""}
	}
	return decision{unknown, ReasonConsentUnknown}
}

// stripIdentifiers removes everything that identifies the person: user
// identifiers, IP, user agent, click and browser ids.
func stripIdentifiers(ev *event.Event) {
	ev.User = event.User{}
	ev.Context.IP, ev.Context.UserAgent = "", ""
	ev.Context.ClickIDs = event.ClickIDs{}
	ev.Context.Cookies = event.Cookies{}
	enrichment(ev).IdentifiersStripped = true
}

// route applies consent and dedupe per destination and hands the event to
// every destination that takes it. owner is the person its dedupe marks
// follow (markOwner). With no state (pt nil) dedupe is neither checked nor
// marked.
func (s *Stage) route(b *batch, pt *store.Partition, ev *event.Event, p *person, owner string) error {
	base := event.Outcome{Record: ev.Origin.String(), EventID: ev.EventID, EventName: ev.EventName, Source: ev.Source, EventTime: ev.EventTime, At: b.now, Degraded: event.DegradedOf(ev)}
	var dests []string
	var terminal []event.Outcome
	var plain []byte // the event as enriched, encoded once for every destination that takes it unchanged
	for _, r := range s.cfg.Routes {
		if contains(dests, r.Destination) || !r.Accepts(ev) {
			continue
		}
		dests = append(dests, r.Destination)
		o := base
		o.Destination = r.Destination
		d := s.consent(r.Destination, ev, p)
		if d.policy == PolicyDrop {
			o.Status, o.Reason, o.Detail = event.StatusSuppressed, d.reason, "consent policy drop for "+r.Destination
			terminal = append(terminal, o)
			continue
		}
		keys := dedupeKeys(r.Destination, ev)
		dup, prev, err := s.duplicate(pt, keys, b.now)
		if err != nil {
			return err
		}
		if dup >= 0 {
			o.Status, o.Reason, o.Detail = event.StatusDeduplicated, keys[dup].reason, keys[dup].detail
			terminal = append(terminal, o)
			continue
		}
		if err := s.mark(b, pt, keys, prev, ev.EventID, owner); err != nil {
			return err
		}
		var v []byte
		if d.policy == PolicySend && r.As == "" {
			if plain == nil {
				var err error
				if plain, err = json.Marshal(ev); err != nil {
					return err
				}
			}
			v = plain
		} else {
			cp := copyForDestination(ev)
			switch d.policy {
			case PolicyStripIdentifiers:
				stripIdentifiers(cp)
			case PolicySendWithFlags:
				enrichment(cp).LimitedDataUse = true
			}
			enrichment(cp).PlatformEventName = r.As
			var err error
			if v, err = json.Marshal(cp); err != nil {
				return err
			}
		}
		b.out.Produce(&kgo.Record{Topic: s.cfg.Topics.Out(r.Destination), Key: []byte(ev.EventID), Value: v})
	}
	o := base
	if len(dests) == 0 {
		o.Status, o.Reason, o.Detail = event.StatusSuppressed, ReasonNoRoute, "no destination takes "+ev.EventName+" events"
		b.out.Produce(kafkax.OutcomeRecord(s.cfg.Topics.Outcomes(), o))
		return nil
	}
	o.Status, o.Destinations = event.StatusRouted, dests
	b.out.Produce(kafkax.OutcomeRecord(s.cfg.Topics.Outcomes(), o))
	for _, t := range terminal {
		b.out.Produce(kafkax.OutcomeRecord(s.cfg.Topics.Outcomes(), t))
	}
	return nil
}

// copyForDestination copies the parts of ev a destination's variant
// changes, so variants never share them.
func copyForDestination(ev *event.Event) *event.Event {
	cp := *ev
	en := event.Enrichment{}
	if ev.Enrichment != nil {
		en = *ev.Enrichment
	}
	cp.Enrichment = &en
	return &cp
}

// dedupeKey is one key an event is deduplicated on, for one destination.
type dedupeKey struct {
	key    []byte
	reason string
	detail string // names the key; ids, never personal data
}

// dedupeKeys are the event id, and the order id per event name, for dest.
func dedupeKeys(dest string, ev *event.Event) []dedupeKey {
	keys := []dedupeKey{{
		key:    []byte(string(prefixDedupe) + dest + "\x00e\x00" + ev.EventID),
		reason: ReasonDuplicateEventID, detail: "event_id " + ev.EventID + " already sent to " + dest,
	}}
	if ev.Properties.OrderID != "" {
		keys = append(keys, dedupeKey{
			key:    []byte(string(prefixDedupe) + dest + "\x00o\x00" + ev.EventName + "\x00" + ev.Properties.OrderID),
			reason: ReasonDuplicateOrderID, detail: "order_id " + ev.Properties.OrderID + " of " + ev.EventName + " already sent to " + dest,
		})
	}
	return keys
}

// duplicate returns the index of the first key marked inside the window,
// or -1, and the values the keys hold (nil when unmarked), expired or not.
// Without state (pt nil) it cannot tell, and says -1.
func (s *Stage) duplicate(pt *store.Partition, keys []dedupeKey, now time.Time) (int, [][]byte, error) {
	if pt == nil {
		return -1, nil, nil
	}
	f, err := s.seen(pt)
	if err != nil {
		return -1, nil, err
	}
	var prev [][]byte
	for i, k := range keys {
		if !f.mayContain(k.key) {
			continue // never marked in this partition
		}
		v, ok, err := pt.Get(k.key)
		if err != nil {
			return -1, nil, err
		}
		if !ok {
			continue
		}
		if m, ok := decodeMark(v); ok && now.UnixMilli()-m.at < s.cfg.DedupeWindow.Milliseconds() {
			return i, nil, nil
		}
		if prev == nil {
			prev = make([][]byte, len(keys))
		}
		prev[i] = v
	}
	return -1, prev, nil
}

// mark sets the keys in the transaction that hands the event to the
// destination: a key is never marked for an event that could still be lost.
// prev are the expired values the keys held (see duplicate); owner is the
// person the marks follow into a merge (markOwner). Without state (pt nil)
// nothing is marked (degraded.go says why).
func (s *Stage) mark(b *batch, pt *store.Partition, keys []dedupeKey, prev [][]byte, eventID, owner string) error {
	if pt == nil {
		return nil
	}
	for i, k := range keys {
		var p []byte
		if prev != nil {
			p = prev[i]
		}
		if err := s.setMark(b, pt, k.key, p, b.now, eventID, owner); err != nil {
			return err
		}
	}
	return nil
}

// releaseMsg says a delivery ended rejected or expired; its keys go, so a
// legitimate resend can pass.
type releaseMsg struct {
	Destination string `json:"destination"`
	EventID     string `json:"event_id"`
	EventName   string `json:"event_name"`
	OrderID     string `json:"order_id,omitempty"`
}

// release deletes the keys that event set for the destination. A key that
// another event set since stays. The release is addressed to the person the
// event was processed for; when that person has since been merged into
// another (an alias now), its marks moved there, so the release follows.
func (s *Stage) release(b *batch, pt *store.Partition, k string, raw []byte, m releaseMsg, hops int) error {
	ev := &event.Event{EventID: m.EventID, EventName: m.EventName, Properties: event.Properties{OrderID: m.OrderID}}
	for _, dk := range dedupeKeys(m.Destination, ev) {
		v, ok, err := pt.Get(dk.key)
		if err != nil {
			return err
		}
		if mv, okm := decodeMark(v); ok && okm && mv.eventID == m.EventID {
			if err := deleteMark(b, pt, dk.key, mv); err != nil {
				return err
			}
		}
	}
	e, err := s.lookup(pt, k)
	if err != nil {
		return err
	}
	if e.aliasTo != "" && hops < maxHops {
		s.internal(b, e.aliasTo, KindRelease, hops+1, e.aliasRank, raw)
	}
	return nil
}

// deadLetter turns the deliver stage's dead letter (an event that ended
// rejected or expired) into a release record for the event's person, whose
// partition holds its dedupe keys.
func (s *Stage) deadLetter(b *batch, rec *kgo.Record) {
	if kafkax.Header(rec, kafkax.HeaderStage) != "deliver" {
		return
	}
	dest := kafkax.Header(rec, kafkax.HeaderDestination)
	var ev event.Event
	if dest == "" || json.Unmarshal(rec.Value, &ev) != nil || ev.Enrichment == nil || ev.Enrichment.Identity == "" {
		return
	}
	v, _ := json.Marshal(releaseMsg{Destination: dest, EventID: ev.EventID, EventName: ev.EventName, OrderID: ev.Properties.OrderID})
	s.internal(b, ev.Enrichment.Identity, KindRelease, 0, 0, v)
}

// sweep deletes marks older than the window. It walks the partition's
// marks from where the last batch stopped, at most SweepPerBatch of them,
// and starts over at the end, so every mark is looked at once per
// (marks / SweepPerBatch) batches: storage stays bounded by the window's
// traffic plus one walk, without a second (time-ordered) index to write.
func (s *Stage) sweep(b *batch, id int32, pt *store.Partition) error {
	cutoff := b.now.UnixMilli() - s.cfg.DedupeWindow.Milliseconds()
	from := s.cursor[id]
	if from == nil {
		from = []byte{prefixDedupe}
	}
	type mark struct {
		key []byte
		v   markValue
	}
	var expired []mark
	var last []byte
	n := 0
	err := pt.Scan(from, []byte{prefixDedupe + 1}, func(k, v []byte) bool {
		n++
		if m, ok := decodeMark(v); ok && m.at <= cutoff {
			expired = append(expired, mark{append([]byte(nil), k...), m})
		}
		last = append(last[:0], k...) // k is Pebble's buffer, reused once Scan returns
		return n < s.cfg.SweepPerBatch
	})
	if err != nil {
		return err
	}
	if n < s.cfg.SweepPerBatch {
		delete(s.cursor, id) // reached the end: start over next time
	} else {
		s.cursor[id] = append(last, 0) // just past the last key seen
	}
	for _, m := range expired {
		if err := deleteMark(b, pt, m.key, m.v); err != nil {
			return err
		}
	}
	return nil
}

// forget deletes people unseen for PersonTTL, walking the partition's
// people like sweep walks marks (a tenth as many per batch: a person costs
// more to look at). Aliases stay: they are small, and an alias to a
// forgotten person only sends its events to a fresh one.
func (s *Stage) forget(b *batch, id int32, pt *store.Partition) error {
	cutoff := b.now.UnixMilli() - s.cfg.PersonTTL.Milliseconds()
	from := s.personCursor[id]
	if from == nil {
		from = []byte{prefixPerson}
	}
	limit := max(s.cfg.SweepPerBatch/10, 1)
	var stale [][]byte
	var last []byte
	n := 0
	err := pt.Scan(from, []byte{prefixPerson + 1}, func(k, v []byte) bool {
		n++
		last = append(last[:0], k...) // k is Pebble's buffer, reused once Scan returns
		if len(v) > 0 && v[0] == '{' {
			var seen struct {
				S int64 `json:"s"`
			}
			// 0: written before Seen existed; never forgotten for that alone.
			if json.Unmarshal(v, &seen) == nil && seen.S > 0 && seen.S < cutoff {
				stale = append(stale, append([]byte(nil), k...))
			}
		}
		return n < limit
	})
	if err != nil {
		return err
	}
	if n < limit {
		delete(s.personCursor, id)
	} else {
		s.personCursor[id] = append(last, 0)
	}
	for _, k := range stale {
		if err := pt.Delete(b.out, k); err != nil {
			return err
		}
	}
	return nil
}
