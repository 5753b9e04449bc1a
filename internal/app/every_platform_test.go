package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// everyPlatform routes to one account of every platform, all on the sandbox
// at %[1]s. Tokens come from the environment variables named here.
const everyPlatform = `
- {name: hook, type: webhook, webhook: {url: "%[1]s/hooks/journey", secret_env: SIGNALPIPE_DEMO_WEBHOOK_SECRET, linger: 20ms}}
- {name: google, type: google, google: {customer_id: "1234567890", conversion_action_id: "555", endpoint: "%[1]s", token_url: "%[1]s/token",
   client_id_env: J_GOOGLE_ID, client_secret_env: J_GOOGLE_SECRET, refresh_token_env: J_GOOGLE_REFRESH, linger: 20ms}}
- {name: google-ads, type: google_ads, google_ads: {customer_id: "1234567890", conversion_action_id: "555", endpoint: "%[1]s/google_ads", token_url: "%[1]s/token",
   client_id_env: J_GOOGLE_ID, client_secret_env: J_GOOGLE_SECRET, refresh_token_env: J_GOOGLE_REFRESH, linger: 20ms, events: [purchase]}}
- {name: ga4, type: ga4, ga4: {measurement_id: G-JOURNEY1, api_secret_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: tiktok, type: tiktok, tiktok: {event_source_id: PIXELJ, access_token_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: snapchat, type: snapchat, snapchat: {pixel_id: pixel-j, access_token_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: pinterest, type: pinterest, pinterest: {ad_account_id: "549755885175", access_token_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: linkedin, type: linkedin, linkedin: {access_token_env: J_TOKEN, endpoint: "%[1]s", conversions: {purchase: "10000001"}, linger: 20ms}}
- {name: reddit, type: reddit, reddit: {pixel_id: t2_journey, access_token_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: microsoft, type: microsoft, microsoft: {api: uet, tag_id: "12345678", access_token_env: J_TOKEN, endpoint: "%[1]s", linger: 20ms}}
- {name: microsoft-offline, type: microsoft, microsoft: {api: offline, customer_id: "1111111", account_id: "2222222", access_token_env: J_TOKEN,
   developer_token_env: J_TOKEN, event_names: {purchase: Online purchase}, endpoint: "%[1]s", linger: 20ms, events: [purchase]}}
`

// TestJourneyReachesEveryPlatform sends one person's journey — a landing
// page view carrying every platform's click id, then a purchase — through
// the pipeline to one account of every platform, and checks what each
// platform's sandbox received: the purchase, with the e-mail hashed as
// sha256 of its normalized form (computed here) where the platform takes
// e-mails, and its click id where it needs one.
func TestJourneyReachesEveryPlatform(t *testing.T) {
	for _, k := range []string{"J_GOOGLE_ID", "J_GOOGLE_SECRET", "J_GOOGLE_REFRESH", "J_TOKEN"} {
		t.Setenv(k, "journey-"+strings.ToLower(k))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		var extra []config.Destination
		if err := yaml.Unmarshal([]byte(fmt.Sprintf(everyPlatform, c.Destinations[0].Meta.Endpoint)), &extra); err != nil {
			t.Fatal(err)
		}
		c.Destinations[0].Meta.Linger = 20 * time.Millisecond
		c.Destinations = append(c.Destinations, extra...)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	now := time.Now().Add(-time.Hour).UTC()
	url := "https://shop.example.com/landing?gclid=Cj0KCQjwJourney&fbclid=IwARjourney&ttclid=E.C.P.journey&ScCid=sc-journey" +
		"&epik=dj0journey&rdt_cid=rdt-journey&li_fat_id=li-journey&msclkid=0f3c5d2e8a7b4c1d9e6f2a3b4c5d6e7f"
	consent := `"consent":{"ad_user_data":"granted","ad_personalization":"granted","analytics":"granted"}`
	view := fmt.Sprintf(`{"event_id":"j-view","event_name":"page_view","event_time":%q,"source":"web",
	  "user":{"anonymous_id":"anon-journey"},"context":{"ip":"203.0.113.9","user_agent":"Mozilla/5.0 (journey)","page_url":%q},%s}`,
		now.Add(-10*time.Minute).Format(time.RFC3339), url, consent)
	buy := fmt.Sprintf(`{"event_id":"j-buy","event_name":"purchase","event_time":%q,"source":"web",
	  "user":{"user_id":"u-journey","anonymous_id":"anon-journey","email":" Journey.Person@Example.com ","phone":"+1 650 555 0199","first_name":"Jo","last_name":"Person",
	    "address":{"city":"Menlo Park","state":"CA","zip":"94025","country":"US"}},
	  "context":{"ip":"203.0.113.9","user_agent":"Mozilla/5.0 (journey)","page_url":%q,"cookies":{"fbp":"fb.1.1700000000000.123","ttp":"ttp-journey"}},
	  "properties":{"value":99.5,"currency":"USD","order_id":"ord-journey"},%s}`,
		now.Format(time.RFC3339), url, consent)
	inputs, err := st.Produce(ctx, []demo.Record{
		{Topic: demo.TopicWeb, Key: []byte("anon-journey"), Value: []byte(view)},
		{Topic: demo.TopicWeb, Key: []byte("anon-journey"), Value: []byte(buy)},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.WaitBalanced(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	snap := st.Ledger.Snapshot()
	for _, d := range st.Config.Destinations {
		if snap.ByDestination[d.Name]["delivered"] == 0 {
			t.Errorf("%s: nothing delivered (outcomes %v, reasons %v)", d.Name, snap.ByDestination[d.Name], snap.Reasons)
		}
	}

	sum := sha256.Sum256([]byte("journey.person@example.com"))
	emailHash := hex.EncodeToString(sum[:])
	checks := []struct {
		platform string
		want     []string // each must appear in what the platform received
		not      []string // none may
	}{
		{"meta", []string{"j-buy", emailHash, "IwARjourney"}, nil},
		{"webhook", []string{"j-buy", emailHash}, nil},
		{"google", []string{"ord-journey", emailHash, "Cj0KCQjwJourney"}, nil},
		{"google_ads", []string{"ord-journey", "Cj0KCQjwJourney"}, nil},
		{"ga4", []string{"purchase", emailHash}, nil},
		{"tiktok", []string{"j-buy", emailHash, "E.C.P.journey"}, nil},
		{"snapchat", []string{"j-buy", emailHash, "sc-journey"}, nil},
		{"pinterest", []string{"j-buy", emailHash, "dj0journey"}, nil},
		{"linkedin", []string{"j-buy", emailHash, "li-journey"}, nil},
		{"reddit", []string{"j-buy", emailHash, "rdt-journey"}, nil},
		{"microsoft", []string{"j-buy", emailHash, "0f3c5d2e8a7b4c1d9e6f2a3b4c5d6e7f"}, nil},
		{"microsoft_offline", []string{"0f3c5d2e8a7b4c1d9e6f2a3b4c5d6e7f", "Online purchase"}, nil},
	}
	for _, c := range checks {
		got := sandboxEvents(t, st.SandboxURL, c.platform)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s received no %q in:\n%.1500s", c.platform, w, got)
			}
		}
		for _, raw := range []string{"Journey.Person@Example.com", "journey.person@example.com", "650 555 0199"} {
			if strings.Contains(got, raw) {
				t.Errorf("%s received raw personal data %q", c.platform, raw)
			}
		}
	}
	t.Logf("balanced %v; outcomes by destination %v", b.Balanced, snap.ByDestination)
}

// sandboxEvents is what the sandbox recorded for a platform, as JSON text.
func sandboxEvents(t *testing.T, base, platform string) string {
	t.Helper()
	resp, err := http.Get(base + "/_sandbox/" + platform + "/events?limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s events: HTTP %d: %s", platform, resp.StatusCode, body)
	}
	return string(body)
}
