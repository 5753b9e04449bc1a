package deliver

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/pii"
)

// The degraded path. While a destination's breaker is open its loops do not
// poll: the backlog waits in Kafka. Every Degraded.Every each loop polls once
// anyway, in degraded mode, and looks at what it got:
//
//   - past the platform's age limit: expired (outcome + DLQ), as always;
//   - within Degraded.Margin of it: written to the platform's offline-upload
//     file (destination.Exporter, or the generic CSV) and recorded as
//     degraded_exported — the record is committed, so it is never sent;
//   - younger: parked in the first retry tier (or left in its tier), to be
//     sent when the platform is back or exported when its time comes.
//
// A degraded poll with nothing to export or expire aborts, so it costs one
// read and leaves the backlog exactly where it was.

// DegradedConfig configures the degraded path.
type DegradedConfig struct {
	// Dir receives the export files, in a folder per destination; ""
	// turns the degraded path off (events then wait until they expire).
	Dir string
	// Margin is how close to the platform's age limit an event must be to
	// be exported rather than kept waiting.
	Margin time.Duration
	// Every is how often an open breaker's loops look at their backlog.
	Every time.Duration
}

// Gate returns a TransactLoop gate for one of the stage's loops: closed while
// the breaker is open, except once every Degraded.Every so the degraded path
// can look at the backlog.
func (s *Stage) Gate() func() (bool, time.Duration) {
	var next time.Time
	return func() (bool, time.Duration) {
		ready, wait := s.Breaker.Ready()
		if ready || s.cfg.Degraded.Dir == "" {
			return ready, wait
		}
		now := s.clock()
		if next.IsZero() {
			next = now.Add(s.cfg.Degraded.Every)
		}
		if !now.Before(next) {
			next = now.Add(s.cfg.Degraded.Every)
			return true, 0
		}
		return false, min(wait, next.Sub(now))
	}
}

// degradedItem is an event the degraded path looks at.
type degradedItem struct {
	rec *kgo.Record
	ev  *event.Event
	st  retryState
}

// handleDegraded is Handle while the breaker is open.
func (s *Stage) handleDegraded(recs []*kgo.Record, out *kafkax.Output) error {
	now := s.clock()
	var export, park []degradedItem
	expired := 0
	for _, rec := range recs {
		st := readRetryState(rec)
		ev := new(event.Event)
		if err := json.Unmarshal(rec.Value, ev); err != nil {
			return fmt.Errorf("degraded path: %w", ErrBreakerOpen) // the normal path records it
		}
		if s.purge(out, ev, st.attempts, now) {
			expired++ // a decision made: the batch commits
			continue
		}
		limit := s.limits.MaxEventAge(ev)
		switch age := now.Sub(ev.EventTime); {
		case age > limit:
			s.finish(out, ev, destination.Result{Status: destination.Rejected, Reason: "too_old", Detail: fmt.Sprintf("event is %s old; %s accepts at most %s, and it was down", age.Round(time.Minute), s.dest.Name(), limit)}, event.StatusExpired, st.attempts, nil, now)
			expired++
		case age > limit-s.cfg.Degraded.Margin:
			export = append(export, degradedItem{rec, ev, st})
		case st.tier >= 0 && now.Before(st.due):
			requeue(out, rec, st.due)
		default:
			park = append(park, degradedItem{rec, ev, st})
		}
	}
	if len(export) == 0 && expired == 0 {
		return fmt.Errorf("%s is down and nothing is near its age limit: %w", s.dest.Name(), ErrBreakerOpen)
	}
	path, n, err := s.export(export, now)
	if err != nil {
		return fmt.Errorf("degraded path: %w", err)
	}
	for _, it := range export {
		s.finish(out, it.ev, destination.Result{Reason: "platform_down", Detail: fmt.Sprintf("%s was down as the event neared its age limit; exported to %s", s.dest.Name(), filepath.Base(path))}, event.StatusDegradedExported, it.st.attempts, nil, now)
	}
	for _, it := range park {
		s.park(out, it, now)
	}
	if n > 0 {
		s.log.Warn("destination down: exported events nearing the age limit", "destination", s.dest.Name(), "events", n, "file", path, "parked", len(park), "expired", expired)
	}
	return nil
}

// park keeps an event the degraded path cannot export yet in the retry
// queue: in its own tier when it came from one, else in the first. The
// outage does not use up its tiers.
func (s *Stage) park(out *kafkax.Output, it degradedItem, now time.Time) {
	tier := max(it.st.tier, 0)
	out.Produce(s.retryRecord(it.ev.EventID, it.rec.Value, it.st, it.st.attempts, tier, now.Add(s.cfg.Tiers[tier]),
		"platform_down", s.dest.Name()+" circuit breaker open", now))
}

// export writes items to a new file and makes it durable before the
// transaction that records them commits. The name derives from the first
// record, so a batch that is read again after an abort rewrites the same
// file instead of adding a second copy.
func (s *Stage) export(items []degradedItem, now time.Time) (path string, n int, err error) {
	if len(items) == 0 {
		return "", 0, nil
	}
	format, header, row := "generic-csv", genericHeader, genericRow
	if ex, ok := s.dest.(destination.Exporter); ok {
		format, header, row = ex.ExportFormat(), ex.ExportHeader(), ex.ExportRow
	}
	dir := filepath.Join(s.cfg.Degraded.Dir, s.dest.Name())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", 0, err
	}
	r := items[0].rec
	name := fmt.Sprintf("%s-%s-%s-%s-%d-%d.csv", s.dest.Name(), format, now.UTC().Format("20060102"), strings.ReplaceAll(r.Topic, ".", "_"), r.Partition, r.Offset)
	path = filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	_ = w.Write(header)
	for _, it := range items {
		cols, err := row(it.ev)
		if err != nil {
			// The API would refuse it too; the row says so rather than
			// vanish, and the outcome still records the export.
			cols = make([]string, len(header))
			cols[0] = "# " + it.ev.EventID + ": " + err.Error()
		}
		_ = w.Write(cols)
		n++
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tmp.Close()
		return "", 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", 0, err
	}
	if err := tmp.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", 0, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return path, n, nil
}

// genericHeader is the generic export for platforms without an upload
// format of their own: ids, value, click ids, and identifiers hashed with
// Meta's normalization (the common denominator of the platforms' rules).
var genericHeader = []string{
	"event_id", "event_name", "event_time", "source", "value", "currency", "order_id",
	"email_sha256", "phone_sha256", "external_id_sha256",
	"gclid", "gbraid", "wbraid", "fbclid", "ttclid", "sccid", "epik", "rdt_cid", "li_fat_id", "msclkid",
}

func genericRow(ev *event.Event) ([]string, error) {
	hash := func(f pii.Field, v string) string {
		if v == "" {
			return ""
		}
		region := ""
		if ev.User.Address != nil {
			region = strings.ToUpper(ev.User.Address.Country)
		}
		_, h, err := pii.Hash(pii.Meta, f, v, pii.Options{DefaultRegion: region})
		if err != nil {
			return ""
		}
		return h
	}
	value := ""
	if ev.Properties.Value != nil {
		value = strconv.FormatFloat(*ev.Properties.Value, 'f', -1, 64)
	}
	ext := ev.User.ExternalID
	if ext == "" {
		ext = ev.User.UserID
	}
	c := ev.Context.ClickIDs
	return []string{
		ev.EventID, ev.EventName, ev.EventTime.UTC().Format(time.RFC3339), string(ev.Source), value, ev.Properties.Currency, ev.Properties.OrderID,
		hash(pii.Email, ev.User.Email), hash(pii.Phone, ev.User.Phone), hash(pii.ExternalID, ext),
		c.Gclid, c.Gbraid, c.Wbraid, c.Fbclid, c.Ttclid, c.ScCid, c.Epik, c.RdtCid, c.LiFatID, c.Msclkid,
	}, nil
}
