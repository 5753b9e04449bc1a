package ingest

import (
	"encoding/json"
	"testing"

	"github.com/signalpipe/signalpipe/internal/event"
)

// TestDecodeKeepsPlatformCookies: the tag cookies the platforms match on
// arrive in the canonical event unchanged.
func TestDecodeKeepsPlatformCookies(t *testing.T) {
	t.Parallel()
	var rec map[string]any
	if err := json.Unmarshal(example(t, "web_purchase.json"), &rec); err != nil {
		t.Fatal(err)
	}
	rec["context"].(map[string]any)["cookies"] = map[string]any{"fbp": "fb.1.1.2", "ttp": "TtP_1", "scid": "0cF2-Snap-Scid"}
	raw, _ := json.Marshal(rec)
	ev, err := testDecoder(t).Decode(raw, testOrigin, testReceived)
	if err != nil {
		t.Fatal(err)
	}
	want := event.Cookies{Fbp: "fb.1.1.2", Ttp: "TtP_1", Scid: "0cF2-Snap-Scid"}
	if ev.Context.Cookies != want {
		t.Errorf("cookies = %+v, want %+v", ev.Context.Cookies, want)
	}
}
