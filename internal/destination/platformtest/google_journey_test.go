package platformtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/ga4"
	"github.com/signalpipe/signalpipe/internal/destination/google"
	"github.com/signalpipe/signalpipe/internal/destination/googleads"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// TestGeneratedJourneysReachGoogle routes generated web, app and CRM
// traffic, decoded as ingest does, to the Data Manager API, the Google Ads
// API and GA4 sandboxes (tokens from the sandbox's token endpoint) and
// checks what each received: every prepared event arrives under its dedupe
// key, or was answered as a duplicate, with the e-mail hashed by Google's
// rule (trimmed, lowercased, dots removed from gmail/googlemail local parts;
// computed here independently of pii).
func TestGeneratedJourneysReachGoogle(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	url, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	events := generate(t, 400)
	env := func(string) string { return "placeholder" }

	gc := google.Example()
	gc.Endpoint, gc.TokenURL, gc.DefaultPhoneRegion = url, url+"/token", "US"
	ac := googleads.Example()
	ac.Endpoint, ac.TokenURL, ac.DefaultPhoneRegion = url+"/google_ads", url+"/token", "US"
	fc := ga4.Example()
	fc.Endpoint, fc.DefaultPhoneRegion = url, "US"
	dests := map[string]destination.Config{"google": gc, "google_ads": ac, "ga4": fc}

	// key is the dedupe key each platform records an event under; email the
	// hashed e-mail it received.
	type recorded struct{ key, email string }
	received := map[string]func() []recorded{
		"google": func() (out []recorded) {
			for _, e := range sb.Google().Events() {
				out = append(out, recorded{e.EventID, identifier(platformtest.Field(e.Raw, "userData", "userIdentifiers"), "emailAddress")})
			}
			return out
		},
		"google_ads": func() (out []recorded) {
			for _, e := range sb.GoogleAds().Events() {
				out = append(out, recorded{e.EventID, identifier(platformtest.Field(e.Raw, "userIdentifiers"), "hashedEmail")})
			}
			return out
		},
		"ga4": func() (out []recorded) {
			for _, e := range sb.GA4().Events() {
				id, _ := platformtest.Field(e.Raw, "event", "params", "event_id").(string)
				out = append(out, recorded{id, firstOf(platformtest.Field(e.Raw, "user_data", "sha256_email_address"))})
			}
			return out
		},
	}
	// keyOf is the key the platform dedupes the event on.
	keyOf := map[string]func(p destination.Prepared) string{
		"google":     func(p destination.Prepared) string { return orderOrEvent(p) },
		"google_ads": func(p destination.Prepared) string { return orderOrEvent(p) },
		"ga4":        func(p destination.Prepared) string { return p.Event.EventID },
	}
	for name, cfg := range dests {
		t.Run(name, func(t *testing.T) {
			d, err := cfg.Open(env, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var batch []destination.Prepared
			for _, ev := range events {
				p, err := d.Prepare(ev)
				if err != nil {
					if pe, ok := destination.AsPermanent(err); !ok || !strings.Contains("event_not_mapped no_match_keys missing_client_id", pe.Reason) {
						t.Fatalf("%s: Prepare: %v", ev.EventName, err)
					}
					continue
				}
				batch = append(batch, p)
			}
			if len(batch) < 20 {
				t.Fatalf("only %d of %d events prepared", len(batch), len(events))
			}
			want := map[string]string{} // dedupe key → e-mail digest expected
			max := d.Limits().MaxBatch
			for start := 0; start < len(batch); start += max {
				part := batch[start:min(start+max, len(batch))]
				res, err := d.Send(context.Background(), part)
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				for i, r := range res {
					if r.Status != destination.Delivered {
						t.Errorf("event %s: %+v", part[i].Event.EventID, r)
					}
					if r.Reason == "duplicate" {
						continue // the platform already had it
					}
					em := ""
					if e := part[i].Event.User.Email; e != "" {
						em = sha256Hex(googleEmail(e))
					}
					want[keyOf[name](part[i])] = em
				}
			}
			got := map[string]string{}
			for _, r := range received[name]() {
				got[r.key] = r.email
			}
			for key, em := range want {
				g, ok := got[key]
				switch {
				case !ok:
					t.Errorf("event %s never arrived", key)
				case em != "" && g != em:
					t.Errorf("event %s: e-mail digest %q is not SHA-256 of Google's normalization", key, g)
				}
			}
		})
	}
}

// googleEmail is Google's written rule, restated: trim, lowercase, and
// remove the periods of a gmail.com or googlemail.com local part.
func googleEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, _ := strings.Cut(s, "@")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain
}

func orderOrEvent(p destination.Prepared) string {
	if p.Event.Properties.OrderID != "" {
		return p.Event.Properties.OrderID
	}
	return p.Event.EventID
}

// identifier is the first value of key among a list of identifier objects.
func identifier(list any, key string) string {
	l, _ := list.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			if v, ok := m[key].(string); ok {
				return v
			}
		}
	}
	return ""
}
