package config

import (
	"strings"
	"testing"
	"time"
)

const lrmBase = `
kafka: {brokers: ["localhost:9092"]}
inputs: [{topic: events.web, source: web}]
destinations:
`

// TestLinkedInRedditMicrosoftBlocks: each type's block decodes strictly,
// gets its platform's defaults, and its errors name the full key; several
// accounts of one type are separate named destinations.
func TestLinkedInRedditMicrosoftBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dests   string
		wantErr []string
		check   func(t *testing.T, c Config)
	}{
		{"two linkedin accounts", `
  - {name: li-us, type: linkedin, linkedin: {access_token_env: LI_US, conversions: {purchase: "1"}}}
  - {name: li-eu, type: linkedin, linkedin: {access_token_env: LI_EU, conversions: {lead: "2"}}}
`, nil, func(t *testing.T, c Config) {
			us, eu := c.Destinations[0].LinkedIn, c.Destinations[1].LinkedIn
			if us.Name != "li-us" || eu.Name != "li-eu" || us.BatchSize != 5000 || us.MaxEventAge != 90*24*time.Hour || us.APIVersion == "" {
				t.Errorf("linkedin defaults: %+v / %+v", us, eu)
			}
			if !c.Destinations[0].Accepts("purchase") || c.Destinations[0].Accepts("lead") || !c.Destinations[1].Accepts("lead") {
				t.Error("each account takes exactly its mapped events")
			}
		}},
		{"linkedin unknown key", `
  - {type: linkedin, linkedin: {access_token_env: T, conversions: {purchase: "1"}, conversion_ids: {}}}
`, []string{"conversion_ids"}, nil},
		{"linkedin bad rule", `
  - {type: linkedin, linkedin: {access_token_env: T, conversions: {purchase: "abc"}}}
`, []string{"destinations[0].linkedin.conversions.purchase"}, nil},
		{"reddit defaults", `
  - {type: reddit, reddit: {pixel_id: t2_x, access_token_env: RDT, test_id: t2_x}}
`, nil, func(t *testing.T, c Config) {
			r := c.Destinations[0].Reddit
			if r.Name != "reddit" || r.BatchSize != 1000 || r.MaxEventAge != 7*24*time.Hour || r.TestID != "t2_x" {
				t.Errorf("reddit defaults: %+v", r)
			}
		}},
		{"reddit age over 7 days", `
  - {type: reddit, reddit: {pixel_id: t2_x, access_token_env: RDT, max_event_age: 200h}}
`, []string{"destinations[0].reddit.max_event_age"}, nil},
		{"microsoft uet and offline side by side", `
  - {name: ms-web, type: microsoft, microsoft: {tag_id: "123", access_token_env: UET}}
  - {name: ms-crm, type: microsoft, microsoft: {api: offline, customer_id: "1", account_id: "2", access_token_env: O, developer_token_env: D, event_names: {closed_deal: Deal}}}
`, nil, func(t *testing.T, c Config) {
			web, crm := c.Destinations[0].Microsoft, c.Destinations[1].Microsoft
			if web.API != "uet" || web.MaxEventAge != 7*24*time.Hour || crm.MaxEventAge != 90*24*time.Hour || !c.Destinations[1].Accepts("closed_deal") || c.Destinations[1].Accepts("purchase") {
				t.Errorf("microsoft defaults: %+v / %+v", web, crm)
			}
		}},
		{"microsoft offline needs the developer token", `
  - {type: microsoft, microsoft: {api: offline, customer_id: "1", account_id: "2", access_token_env: O, event_names: {closed_deal: Deal}}}
`, []string{"destinations[0].microsoft.developer_token_env"}, nil},
		{"block of another type", `
  - {type: reddit, linkedin: {access_token_env: T, conversions: {purchase: "1"}}, reddit: {pixel_id: t2_x, access_token_env: RDT}}
`, []string{"destinations[0].linkedin", "only for type linkedin"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(strings.NewReader(lrmBase + tt.dests))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
