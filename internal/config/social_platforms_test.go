package config

import (
	"strings"
	"testing"
)

// TestTikTokSnapchatPinterestBlocks: several accounts per platform, each its
// own named destination with its own settings, and errors that name the
// block's keys.
func TestTikTokSnapchatPinterestBlocks(t *testing.T) {
	t.Parallel()
	const accounts = `
kafka: {brokers: ["localhost:9092"]}
inputs: [{topic: events.web, source: web}]
destinations:
  - {name: tiktok-us, type: tiktok, tiktok: {event_source_id: C4US, access_token_env: TT_US}}
  - {name: tiktok-eu, type: tiktok, tiktok: {event_source: crm, event_source_id: "7001", access_token_env: TT_EU, test_event_code: TEST1}}
  - {name: snap, type: snapchat, snapchat: {pixel_id: px-1, access_token_env: SNAP, validate_only: true}}
  - {name: pin-a, type: pinterest, pinterest: {ad_account_id: "1", access_token_env: PIN_A}}
  - {name: pin-b, type: pinterest, pinterest: {ad_account_id: "2", access_token_env: PIN_B, test: true, batch_size: 500}}
`
	c, err := Decode(strings.NewReader(accounts))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Destinations
	if d[0].TikTok.EventSource != "web" || d[1].TikTok.EventSource != "crm" || d[1].TikTok.Name != "tiktok-eu" || d[1].TikTok.BatchSize != 1000 {
		t.Errorf("tiktok blocks: %+v / %+v", d[0].TikTok, d[1].TikTok)
	}
	if !d[2].Snapchat.ValidateOnly || d[2].Snapchat.Endpoint != "https://tr.snapchat.com" {
		t.Errorf("snapchat block: %+v", d[2].Snapchat)
	}
	if d[3].Pinterest.AdAccountID != "1" || !d[4].Pinterest.Test || d[4].Pinterest.BatchSize != 500 || d[3].Pinterest.BatchSize != 1000 {
		t.Errorf("pinterest blocks: %+v / %+v", d[3].Pinterest, d[4].Pinterest)
	}
	if got := c.Kafka.Topics().Out(d[4].Name); got != "sp.out.pin-b" {
		t.Errorf("topic %q", got)
	}

	tests := []struct {
		name, in string
		want     []string
	}{
		{"tiktok batch", `{type: tiktok, tiktok: {event_source_id: C4, access_token_env: T, batch_size: 1001}}`, []string{"destinations[0].tiktok.batch_size"}},
		{"snapchat age", `{type: snapchat, snapchat: {pixel_id: p, access_token_env: T, max_event_age: 900h}}`, []string{"destinations[0].snapchat.max_event_age"}},
		{"pinterest account", `{type: pinterest, pinterest: {ad_account_id: act_1, access_token_env: T}}`, []string{"destinations[0].pinterest.ad_account_id"}},
		{"block of another type", `{type: tiktok, tiktok: {event_source_id: C4, access_token_env: T}, pinterest: {ad_account_id: "1", access_token_env: T}}`, []string{"destinations[0].pinterest", "only for type pinterest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := strings.Replace(minimal, `[{type: meta, meta: {pixel_id: "1", access_token_env: META_TOKEN}}]`, "["+tt.in+"]", 1)
			_, err := Decode(strings.NewReader(in))
			if err == nil {
				t.Fatalf("no error, want one naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}
