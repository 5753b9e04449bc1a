package platformtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/pinterest"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/destination/snapchat"
	"github.com/signalpipe/signalpipe/internal/destination/tiktok"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
	"github.com/signalpipe/signalpipe/internal/schema"
)

// TestGeneratedJourneysReachTikTokSnapchatPinterest routes generated web,
// app and CRM traffic, decoded as ingest does, to the three platforms'
// sandboxes and checks what each received: every prepared event arrives
// once, under its id, with the e-mail hashed as the platform documents
// (trimmed, lowercased, SHA-256 — computed here independently of pii).
func TestGeneratedJourneysReachTikTokSnapchatPinterest(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	url, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	events := generate(t, 400)

	tt := tiktok.Config{EventSourceID: "C4JOURNEY", AccessTokenEnv: "T", Endpoint: url, DefaultPhoneRegion: "US"}
	sc := snapchat.Config{PixelID: "px-journey", AccessTokenEnv: "T", Endpoint: url, DefaultPhoneRegion: "US"}
	pc := pinterest.Config{AdAccountID: "42", AccessTokenEnv: "T", Endpoint: url, DefaultPhoneRegion: "US"}
	td, err1 := tiktok.New(tt, "tok", nil)
	sd, err2 := snapchat.New(sc, "tok", nil)
	pd, err3 := pinterest.New(pc, "tok", nil)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	received := map[string]func() map[string]string{ // event id → hashed e-mail, per platform
		"tiktok": func() map[string]string {
			out := map[string]string{}
			for _, e := range sb.TikTok().Events() {
				out[e.EventID], _ = platformtest.Field(e.Raw, "user", "email").(string)
			}
			return out
		},
		"snapchat": func() map[string]string {
			out := map[string]string{}
			for _, e := range sb.Snapchat().Events() {
				out[e.EventID] = firstOf(platformtest.Field(e.Raw, "user_data", "em"))
			}
			return out
		},
		"pinterest": func() map[string]string {
			out := map[string]string{}
			for _, e := range sb.Pinterest().Events() {
				out[e.EventID] = firstOf(platformtest.Field(e.Raw, "user_data", "em"))
			}
			return out
		},
	}
	for name, d := range map[string]destination.Destination{"tiktok": td, "snapchat": sd, "pinterest": pd} {
		t.Run(name, func(t *testing.T) {
			defer d.Close()
			sent := map[string]*event.Event{}
			var batch []destination.Prepared
			for _, ev := range events {
				p, err := d.Prepare(ev)
				if err != nil {
					if pe, ok := destination.AsPermanent(err); !ok || (pe.Reason != "event_not_mapped" && pe.Reason != "no_match_keys") {
						t.Fatalf("%s: Prepare: %v", ev.EventName, err)
					}
					continue
				}
				batch = append(batch, p)
				sent[ev.EventID] = ev
			}
			if len(batch) < 50 {
				t.Fatalf("only %d of %d events prepared", len(batch), len(events))
			}
			res, err := d.Send(context.Background(), batch)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			for i, r := range res {
				if r.Status != destination.Delivered {
					t.Errorf("event %s: %+v", batch[i].Event.EventID, r)
				}
			}
			got := received[name]()
			if len(got) != len(sent) {
				t.Errorf("the sandbox has %d events, %d were sent", len(got), len(sent))
			}
			for id, ev := range sent {
				em, ok := got[id]
				if !ok {
					t.Errorf("event %s never arrived", id)
					continue
				}
				if ev.User.Email != "" && em != sha256Hex(strings.ToLower(strings.TrimSpace(ev.User.Email))) {
					t.Errorf("event %s: e-mail digest %q is not SHA-256 of the trimmed, lowercased address", id, em)
				}
			}
		})
	}
}

func firstOf(v any) string {
	if l, ok := v.([]any); ok && len(l) > 0 {
		s, _ := l[0].(string)
		return s
	}
	return ""
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// generate decodes n valid generated records the way ingest does.
func generate(t *testing.T, n int) []*event.Event {
	t.Helper()
	v, err := schema.New()
	if err != nil {
		t.Fatal(err)
	}
	dec := ingest.NewDecoder(v, ingest.DecodeOptions{MaxRecordBytes: config.DefaultMaxRecordBytes})
	now := time.Now()
	gen := demo.NewGenerator(7, func() time.Time { return now }, demo.Topics{Web: "events.web", App: "events.app", CRM: "events.crm"}, demo.Mix{}, config.DefaultMaxRecordBytes)
	out := make([]*event.Event, 0, n)
	for i := 0; i < n; i++ {
		rec := gen.Next()
		ev, err := dec.Decode(rec.Value, event.Origin{Topic: rec.Topic, Offset: int64(i)}, now)
		if err != nil {
			t.Fatalf("generated record %d does not decode: %v", i, err)
		}
		out = append(out, &ev)
	}
	return out
}
