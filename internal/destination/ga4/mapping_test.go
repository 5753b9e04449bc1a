package ga4

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
)

// TestGoldenPayload: hand-written requests; hashes from sha256sum.
func TestGoldenPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
	}{
		{"web_purchase", []string{"client_id", "user_id", "email", "phone", "address"}},
		{"crm_lead", []string{"client_id", "user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := testConfig().Prepare(platformtest.LoadEvent(t, "testdata/"+tt.name+".event.json"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("testdata/" + tt.name + ".golden.json")
			if err != nil {
				t.Fatal(err)
			}
			var got, exp any
			_ = json.Unmarshal(p.Payload, &got)
			_ = json.Unmarshal(want, &exp)
			gb, _ := json.MarshalIndent(got, "", "  ")
			eb, _ := json.MarshalIndent(exp, "", "  ")
			if !bytes.Equal(gb, eb) {
				t.Errorf("payload differs from golden:\n got: %s\nwant: %s", gb, eb)
			}
			if !slices.Equal(p.MatchKeys, tt.keys) {
				t.Errorf("match keys %v, want %v", p.MatchKeys, tt.keys)
			}
		})
	}
}

func TestMapRejects(t *testing.T) {
	t.Parallel()
	ev := func() *event.Event {
		return &event.Event{EventID: "e", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0), Source: event.SourceApp}
	}
	tests := []struct {
		name   string
		cfg    func(*Config)
		mutate func(*event.Event)
		reason string
	}{
		{"no client id", nil, func(*event.Event) {}, "missing_client_id"},
		{"app stream without app instance id", func(c *Config) { c.MeasurementID, c.FirebaseAppID = "", "1:123:android:abc" }, func(e *event.Event) { e.User.UserID = "u" }, "missing_app_instance_id"},
		{"not configured", nil, func(e *event.Event) { e.EventName = event.NameIdentify }, "event_not_mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			e := ev()
			tt.mutate(e)
			_, _, err := c.Map(e)
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != tt.reason {
				t.Fatalf("err = %v, want %s", err, tt.reason)
			}
		})
	}
}

// TestGroups: a batch becomes one request per user, in order, at most 25
// events each, and every event lands in exactly one request.
func TestGroups(t *testing.T) {
	t.Parallel()
	c := testConfig()
	prep := func(anon string, i int) destination.Prepared {
		e := platformtest.LoadEvent(t, "testdata/crm_lead.event.json")
		e.User.AnonymousID = anon
		e.EventID = "e" + string(rune('a'+i%26))
		p, err := c.Prepare(e)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var batch []destination.Prepared
	for i := range 30 {
		batch = append(batch, prep("A", i))
	}
	batch = append(batch, prep("B", 0), prep("A", 31))
	gs := groups(batch, false)
	if len(gs) != 3 {
		t.Fatalf("%d groups, want A (25), B (1), A (6)", len(gs))
	}
	sizes := []int{len(gs[0].index), len(gs[1].index), len(gs[2].index)}
	if !slices.Equal(sizes, []int{25, 6, 1}) {
		t.Errorf("group sizes %v, want [25 6 1]", sizes)
	}
	var body struct {
		ClientID string            `json:"client_id"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(gs[2].body, &body); err != nil || body.ClientID != "B" || len(body.Events) != 1 {
		t.Errorf("group B body %s (%v)", gs[2].body, err)
	}
	if strict := groups(batch[:1], true); !strings.Contains(string(strict[0].body), `"validation_behavior":"ENFORCE_RECOMMENDATIONS"`) {
		t.Errorf("validate mode body %s", strict[0].body)
	}
	seen := map[int]bool{}
	for _, g := range gs {
		for _, i := range g.index {
			if seen[i] {
				t.Errorf("event %d in two requests", i)
			}
			seen[i] = true
		}
	}
	if len(seen) != len(batch) {
		t.Errorf("%d of %d events sent", len(seen), len(batch))
	}
}

// TestUserIDNeverAnEmail: GA4 forbids personal data in user_id.
func TestUserIDNeverAnEmail(t *testing.T) {
	t.Parallel()
	ev := &event.Event{EventID: "e", EventName: event.NameLead, EventTime: time.Unix(1795168800, 0), Source: event.SourceWeb,
		User: event.User{UserID: "Jane@Example.com", AnonymousID: "1.2", Email: "Jane@Example.com"}}
	r, warnings, err := testConfig().Map(ev)
	if err != nil || r.UserID != "" || len(warnings) != 1 || r.UserData == nil || len(r.UserData.SHA256EmailAddress) != 1 {
		t.Fatalf("request %+v, warnings %v, err %v", r, warnings, err)
	}
	if strings.Contains(warnings[0], "Jane") || strings.Contains(warnings[0], "jane") {
		t.Errorf("warning quotes the address: %q", warnings[0])
	}
}
