package ingest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// Defaults for DecodeOptions.
const (
	// DefaultMaxRecordBytes bounds a record's size. Real events are a few KB;
	// anything near a megabyte is a producer bug, and parsing it would cost
	// memory the stage does not budget for.
	DefaultMaxRecordBytes = 1 << 20
	// DefaultMaxFutureSkew is how far an event's time may lie after its
	// receipt. Client clocks drift by seconds or minutes; an event hours in
	// the future has a broken clock or time zone, and platforms reject it.
	DefaultMaxFutureSkew = 10 * time.Minute
)

// DecodeOptions tunes a Decoder. Zero fields take the defaults above.
type DecodeOptions struct {
	// MaxRecordBytes is the largest record accepted; larger ones fail as
	// ReasonOversized before any parsing.
	MaxRecordBytes int
	// MaxFutureSkew is how far event_time may lie after receivedAt.
	MaxFutureSkew time.Duration
}

// Reason classifies why a record could not be decoded. It is the reason
// code written to the DLQ headers and the invalid outcome.
type Reason string

// The reasons Decode reports.
const (
	// ReasonOversized: the record is larger than MaxRecordBytes.
	ReasonOversized Reason = "oversized"
	// ReasonMalformedJSON: the record is not exactly one JSON value.
	ReasonMalformedJSON Reason = "malformed_json"
	// ReasonSchemaViolation: the record fails its JSON Schema, or names
	// none (no known "source" or Segment "type").
	ReasonSchemaViolation Reason = "schema_violation"
	// ReasonUnknownEvent: the event name is not a canonical name or alias.
	ReasonUnknownEvent Reason = "unknown_event"
	// ReasonInvalidValue: the record is well-formed but a value is unusable:
	// a currency that is not ISO-4217, an event time too far in the future
	// or that Go cannot represent, a number out of range.
	ReasonInvalidValue Reason = "invalid_value"
)

// DecodeError is why a record could not become a canonical event. Retrying
// never helps: the record goes to the DLQ with Reason.
type DecodeError struct {
	// Reason is the machine-readable class.
	Reason Reason
	// Path is the JSON pointer of the offending field in the record
	// (/user/email, /event_time); empty when the record as a whole is at
	// fault.
	Path string
	// Detail explains the failure for a person. It never contains a value
	// taken from the record, which may be personal data.
	Detail string
}

// Error implements error.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("decoding record: ")
	b.WriteString(string(e.Reason))
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Decoder turns one raw input record into a canonical event: size check,
// JSON parse, schema validation, normalization. It holds no per-record state
// and is safe for concurrent use.
type Decoder struct {
	v    *schema.Validator
	opts DecodeOptions
}

// NewDecoder returns a Decoder that validates with v. Zero or negative
// options take their defaults.
func NewDecoder(v *schema.Validator, o DecodeOptions) *Decoder {
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxFutureSkew <= 0 {
		o.MaxFutureSkew = DefaultMaxFutureSkew
	}
	return &Decoder{v: v, opts: o}
}

// Validations counts the records validated on the schema's fast path and
// in the library (schema.Validator.Paths).
func (d *Decoder) Validations() (fast, library uint64) { return d.v.Paths() }

// Decode turns raw, one record of the signalpipe/v1 envelope or a
// Segment-spec track/identify/page/screen call, into a canonical event.
// origin is the record's Kafka coordinates; receivedAt is when signalpipe
// received it (the record's timestamp), which becomes ReceivedAt and bounds
// how far in the future EventTime may be (a zero receivedAt skips that
// check). Any failure is a *DecodeError.
//
// The event's strings may refer to raw's bytes, which must not change while
// the event is in use (a Kafka record's value never does).
func (d *Decoder) Decode(raw []byte, origin event.Origin, receivedAt time.Time) (event.Event, error) {
	if len(raw) > d.opts.MaxRecordBytes {
		return event.Event{}, &DecodeError{
			Reason: ReasonOversized,
			Detail: "record is " + strconv.Itoa(len(raw)) + " bytes, limit " + strconv.Itoa(d.opts.MaxRecordBytes),
		}
	}
	doc, err := parseJSON(raw)
	if err != nil {
		return event.Event{}, err
	}
	if err := d.v.Validate(doc); err != nil {
		var verr *schema.ValidationError
		if errors.As(err, &verr) {
			detail := verr.Message
			if verr.Schema != "" {
				detail = verr.Schema + ": " + detail
			}
			return event.Event{}, &DecodeError{Reason: ReasonSchemaViolation, Path: verr.Path, Detail: detail}
		}
		return event.Event{}, &DecodeError{Reason: ReasonSchemaViolation, Detail: "validation failed"}
	}
	// Validate accepted doc, so it is an object that names its schema.
	obj := doc.(map[string]any)
	var ev event.Event
	var timePath string
	switch name := schema.SchemaFor(obj); name {
	case schema.SegmentTrack, schema.SegmentIdentify, schema.SegmentPage, schema.SegmentScreen:
		timePath, err = mapSegment(&ev, obj, name)
	default:
		timePath, err = mapEnvelope(&ev, obj)
	}
	if err != nil {
		return event.Event{}, err
	}
	ev.Origin = origin
	if !receivedAt.IsZero() {
		ev.ReceivedAt = receivedAt.UTC()
		if skew := ev.EventTime.Sub(ev.ReceivedAt); skew > d.opts.MaxFutureSkew {
			return event.Event{}, &DecodeError{
				Reason: ReasonInvalidValue,
				Path:   timePath,
				Detail: "event time is " + skew.Round(time.Second).String() + " after receipt; at most " + d.opts.MaxFutureSkew.String() + " allowed",
			}
		}
	}
	if ev.Context.PageURL != "" {
		fillClickIDsFromURL(&ev.Context.ClickIDs, ev.Context.PageURL)
	}
	normalizeUser(&ev.User)
	return ev, nil
}

// parseJSON parses exactly one JSON value, keeping numbers as json.Number so
// validation sees them exactly as sent. Strings without escapes refer to raw
// instead of being copied (half the parse's allocations): raw must not change
// while the document, or an event mapped from it, is in use.
func parseJSON(raw []byte) (any, error) {
	if useNumber != nil {
		var doc any
		if err := json.UnmarshalWithOption(raw, &doc, useNumber, json.DecodeNoCopyString()); err == nil {
			return doc, nil
		}
		// A record that fails is parsed again, so that its error is
		// described as the Decoder describes it.
	}
	return streamParse(raw)
}

// streamParse is parseJSON through go-json's Decoder: slower, but it reports
// where a record stops being JSON.
func streamParse(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, malformed(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{
			Reason: ReasonMalformedJSON,
			Detail: "unexpected data after the JSON value at byte " + strconv.FormatInt(dec.InputOffset(), 10),
		}
	}
	return doc, nil
}

// useNumber is the Unmarshal option that decodes numbers as json.Number, or
// nil if it could not be found.
//
// go-json parses a whole buffer (Unmarshal) about 40% faster than through a
// Decoder, but exports json.Number decoding only as Decoder.UseNumber. The
// flag UseNumber sets is read here through the public DecodeWithOption, which
// hands its options the Decoder's own, and kept only if Unmarshal with it
// really yields a json.Number; otherwise parseJSON uses a Decoder for every
// record (TestParseUsesNumbers fails then, so an upgrade cannot lose it
// silently).
var useNumber = func() json.DecodeOptionFunc {
	flags := func(number bool) json.DecodeOption {
		var seen json.DecodeOption
		dec := json.NewDecoder(bytes.NewReader([]byte("0")))
		if number {
			dec.UseNumber()
		}
		var v any
		_ = dec.DecodeWithOption(&v, func(o *json.DecodeOption) { seen = *o })
		return seen
	}
	bit := flags(true).Flags &^ flags(false).Flags
	if bit == 0 {
		return nil
	}
	opt := func(o *json.DecodeOption) { o.Flags |= bit }
	var v any
	if err := json.UnmarshalWithOption([]byte("1.5"), &v, opt); err != nil {
		return nil
	}
	if n, ok := v.(json.Number); !ok || n != "1.5" {
		return nil
	}
	return opt
}()

// malformed describes a JSON syntax error by its position only: the
// library's message quotes the offending character.
func malformed(err error, offset int64) *DecodeError {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.Is(err, io.EOF):
		return &DecodeError{Reason: ReasonMalformedJSON, Detail: "empty record"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Reason: ReasonMalformedJSON, Detail: "truncated JSON"}
	}
	return &DecodeError{Reason: ReasonMalformedJSON, Detail: "invalid JSON at byte " + strconv.FormatInt(offset, 10)}
}
