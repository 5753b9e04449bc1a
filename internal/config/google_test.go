package config

import (
	"strings"
	"testing"
)

// googleConfig has three Google Ads customers through the Data Manager API,
// one Google Ads API entry for adjustments and one GA4 stream.
const googleConfig = `
kafka: {brokers: ["localhost:9092"]}
inputs: [{topic: events.web, source: web}]
destinations:
  - {name: google-us, type: google, google: {customer_id: "1111111111", conversion_action_id: "1", client_id_env: GID, client_secret_env: GSEC, refresh_token_env: GRT}}
  - {name: google-eu, type: google, google: {customer_id: "2222222222", conversion_action_id: "2", service_account_key_file: /etc/sa.json}}
  - {name: google-apac, type: google, google: {customer_id: "3333333333", login_customer_id: "9999999999", conversion_action_id: "3", client_id_env: GID, client_secret_env: GSEC, refresh_token_env: GRT}}
  - {name: ads-restate, type: google_ads, google_ads: {customer_id: "1111111111", conversion_action_id: "1", upload: adjustments, adjustment_types: {closed_deal: RESTATEMENT}, client_id_env: GID, client_secret_env: GSEC, refresh_token_env: GRT}}
  - {name: ga4-web, type: ga4, ga4: {measurement_id: G-ABC123, api_secret_env: GA4_SECRET}}
`

func TestGoogleDestinations(t *testing.T) {
	t.Parallel()
	c, err := Decode(strings.NewReader(googleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Destinations) != 5 {
		t.Fatalf("%d destinations", len(c.Destinations))
	}
	topics := map[string]bool{}
	for _, d := range c.Destinations {
		topics[c.Kafka.Topics().Out(d.Name)] = true
	}
	for _, want := range []string{"sp.out.google-us", "sp.out.google-eu", "sp.out.google-apac"} {
		if !topics[want] {
			t.Errorf("no topic %s among %v: each customer is its own destination", want, topics)
		}
	}
	g := c.Destinations[2].Google
	if g.Name != "google-apac" || g.BatchSize != 2000 || g.TokenURL != "https://oauth2.googleapis.com/token" || g.Endpoint != "https://datamanager.googleapis.com" {
		t.Errorf("google defaults not applied: %+v", g)
	}
	a := c.Destinations[3].GoogleAds
	if a.APIVersion != "v21" || len(a.Events) != 1 || a.Events[0] != "closed_deal" {
		t.Errorf("google_ads defaults: version %q, events %v (want the adjusted events)", a.APIVersion, a.Events)
	}
	if !c.Destinations[3].Accepts("closed_deal") || c.Destinations[3].Accepts("purchase") {
		t.Error("the adjustments entry routes other events than its adjustment types")
	}
	if g4 := c.Destinations[4].GA4; g4.BatchSize != 25 || g4.MaxEventAge.Hours() != 72 {
		t.Errorf("ga4 defaults: %+v", g4)
	}
}

func TestGoogleDecodeErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, from, to, want string
	}{
		{"dashes in customer id", `"2222222222"`, `"222-222-2222"`, "destinations[1].google.customer_id"},
		{"refresh token in the file", "refresh_token_env: GRT}}\n  - {name: google-eu", "refresh_token_env: 1//0abc}}\n  - {name: google-eu", "destinations[0].google.refresh_token_env"},
		{"unknown google key", "login_customer_id", "manager_id", "manager_id"},
		{"bad adjustment type", "RESTATEMENT", "REFUND", "destinations[3].google_ads.adjustment_types.closed_deal"},
		{"ga4 batch over 25", "api_secret_env: GA4_SECRET", "api_secret_env: GA4_SECRET, batch_size: 26", "destinations[4].ga4.batch_size"},
		{"ga4 measurement id", "G-ABC123", "UA-1234-1", "destinations[4].ga4.measurement_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := strings.Replace(googleConfig, tt.from, tt.to, 1)
			if in == googleConfig {
				t.Fatalf("test input unchanged: %q not found", tt.from)
			}
			_, err := Decode(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}
