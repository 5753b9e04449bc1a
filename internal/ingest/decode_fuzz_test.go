package ingest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/schemas"
)

// FuzzDecode checks that no input panics Decode, and that every input ends
// either as a usable event (ids, name, source and UTC time set) or as a
// *DecodeError with a known reason.
func FuzzDecode(f *testing.F) {
	examples, err := fs.Glob(schemas.FS, "examples/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range examples {
		raw, err := fs.ReadFile(schemas.FS, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	bad, _ := filepath.Glob(filepath.Join("testdata", "decode", "*.json"))
	for _, p := range bad {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"page","messageId":"m","anonymousId":"a","timestamp":"2025-03-14t00:00:00z","properties":{"url":"/?gclid=%41"}}`))
	f.Add([]byte(`{"event_id":"e","event_name":"MQL","event_time":"2025-03-14T00:00:00Z","source":"crm","user":{"user_id":" u "},"properties":{"value":1e308,"currency":"eur","contents":[{"id":"a","quantity":1e0}]}}`))

	d := testDecoder(f)
	received := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := d.Decode(raw, testOrigin, received)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error %T %v is not a *DecodeError", err, err)
			}
			switch de.Reason {
			case ReasonOversized, ReasonMalformedJSON, ReasonSchemaViolation, ReasonUnknownEvent, ReasonInvalidValue:
			default:
				t.Fatalf("unknown reason %q", de.Reason)
			}
			return
		}
		if ev.EventID == "" || ev.EventName == "" || !ev.Source.Valid() {
			t.Fatalf("event lacks id, name or source: %+v", ev)
		}
		if _, ok := canonicalEventName(ev.EventName); !ok {
			t.Fatalf("event name %q is not canonical", ev.EventName)
		}
		if ev.EventTime.IsZero() || ev.EventTime.Location() != time.UTC {
			t.Fatalf("event time %v is not a UTC time", ev.EventTime)
		}
		if ev.EventTime.Sub(received) > DefaultMaxFutureSkew {
			t.Fatalf("event time %v is too far after receipt", ev.EventTime)
		}
		if c := ev.Properties.Currency; c != "" {
			if _, ok := isoCurrencies[c]; !ok {
				t.Fatalf("currency %q is not ISO-4217", c)
			}
		}
		if ev.Origin != testOrigin {
			t.Fatalf("origin = %+v", ev.Origin)
		}
	})
}
