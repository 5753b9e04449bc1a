package schema_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// The demo's traffic is the shape of real traffic: every record of it that
// the library accepts must take the fast path, or the transform's speed
// figure would describe records nobody sends.
func TestScreenCoversDemoTraffic(t *testing.T) {
	t.Parallel()
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	gen := demo.NewGenerator(3, func() time.Time { return now }, demo.Topics{Web: "w", App: "a", CRM: "c"}, demo.DefaultMix, 4096)
	valid, screened, invalid := 0, 0, 0
	for range 5000 {
		rec := gen.Next()
		dec := json.NewDecoder(bytes.NewReader(rec.Value))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) != nil {
			continue
		}
		if v.Validate(doc) != nil {
			invalid++
			if v.Screened(doc) {
				t.Fatalf("the screen accepts a %s record the library rejects: %s", rec.Kind, rec.Value)
			}
			continue
		}
		valid++
		if v.Screened(doc) {
			screened++
		} else {
			t.Errorf("a valid %s record misses the fast path: %s", rec.Kind, rec.Value)
		}
	}
	if valid < 4000 || invalid == 0 {
		t.Fatalf("generator mix unexpected: %d valid, %d invalid", valid, invalid)
	}
	t.Logf("%d of %d valid records screened; %d invalid", screened, valid, invalid)
}
