package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// benchRecord is the web purchase example as a producer sends it: compact
// JSON, about 1 KB.
func benchRecord(b *testing.B) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, example(b, "web_purchase.json")); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecode measures the whole of Decode (size check, parse, schema
// validation, mapping, normalization) on a typical web purchase.
func BenchmarkDecode(b *testing.B) {
	d := testDecoder(b)
	raw := benchRecord(b)
	received := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		if _, err := d.Decode(raw, testOrigin, received); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := processCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1000, "cpu-µs/op")
	}
}

// BenchmarkDecodeStages splits Decode's cost, to show where the time goes.
func BenchmarkDecodeStages(b *testing.B) {
	d := testDecoder(b)
	raw := benchRecord(b)
	doc, err := parseJSON(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseJSON(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := d.v.Validate(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map+normalize", func(b *testing.B) {
		obj := doc.(map[string]any)
		b.ReportAllocs()
		for b.Loop() {
			var ev event.Event
			if _, err := mapEnvelope(&ev, obj); err != nil {
				b.Fatal(err)
			}
			fillClickIDsFromURL(&ev.Context.ClickIDs, ev.Context.PageURL)
			normalizeUser(&ev.User)
		}
	})
	// The alternative to mapping the validated tree: a second parse of the
	// record straight into the canonical struct, whose JSON tags match the
	// envelope's names (Segment records would need a struct of their own).
	b.Run("alternative-second-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev event.Event
			if err := json.Unmarshal(raw, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
