package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/event"
)

// TestPipelineEndToEnd runs ingest → process → deliver on kfake against the
// Meta sandbox with thousands of generated events, invalid ones included,
// and checks that every input record has exactly one outcome, that the
// sandbox received exactly the valid events, and that their email hashes are
// right (computed here independently of the pii package).
func TestPipelineEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	const n = 5000
	gen := demo.NewGenerator(7, time.Now, demo.Topics{Web: demo.TopicWeb, App: demo.TopicApp, CRM: demo.TopicCRM}, demo.DefaultMix, st.Config.Ingest.MaxRecordBytes)
	recs := make([]demo.Record, n)
	kinds := map[demo.Kind]int{}
	for i := range recs {
		recs[i] = gen.Next()
		kinds[recs[i].Kind]++
	}
	for _, k := range []demo.Kind{demo.KindMalformed, demo.KindSchema, demo.KindUnknown, demo.KindTooOld, demo.KindDuplicate, demo.KindSegment} {
		if kinds[k] == 0 {
			t.Fatalf("generator made no %s records; the test would prove nothing about them", k)
		}
	}
	inputs, err := st.Produce(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.WaitBalanced(ctx, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Duplicates != 0 || len(b.Unknown) != 0 {
		t.Fatalf("ledger: %+v", b)
	}

	// What should have happened, from the generator's intent alone: each
	// event id reaches Meta once (a resent copy is deduplicated), and an
	// event whose consent denies ad_user_data is dropped (the default
	// policy for denied consent).
	wantDelivered := map[string]int{} // event id → copies
	wantEmailHash := map[string]string{}
	invalid, expired, denied, dups := 0, 0, 0, 0
	deniedIDs := map[string]bool{}
	for _, r := range recs {
		switch r.Kind {
		case demo.KindMalformed, demo.KindSchema, demo.KindUnknown, demo.KindOversized:
			invalid++
			continue
		case demo.KindTooOld:
			expired++
			continue
		}
		id, email := idAndEmail(t, r.Value)
		if consentDenied(t, r.Value) {
			denied++
			deniedIDs[id] = true
			continue
		}
		if wantDelivered[id] > 0 {
			dups++
			continue
		}
		wantDelivered[id]++
		if email != "" {
			sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
			wantEmailHash[id] = hex.EncodeToString(sum[:])
		}
	}
	if dups == 0 || denied == 0 {
		t.Fatalf("generator made %d resent copies and %d consent denials; the test would prove nothing about them", dups, denied)
	}
	snap := st.Ledger.Snapshot()
	if got := snap.Outcomes[event.StatusInvalid]; got != int64(invalid) {
		t.Errorf("invalid outcomes = %d, want %d", got, invalid)
	}
	// A person who denied consent once is not sent to again on events that
	// carry no consent signal of their own: those are suppressed too, on
	// top of the generated denials, instead of being delivered, expiring or
	// being deduplicated. Which events they are depends on the order the
	// person's events were processed in, so only the totals are checked
	// here (internal/process tests the rule itself).
	personDenied := snap.Outcomes[event.StatusSuppressed] - int64(denied)
	if got := snap.Outcomes[event.StatusExpired]; got > int64(expired) {
		t.Errorf("expired outcomes = %d, want at most %d", got, expired)
	}
	if got := snap.Outcomes[event.StatusDeduplicated]; got > int64(dups) || got < int64(dups)-personDenied {
		t.Errorf("deduplicated outcomes = %d, want %d less at most the %d person-level suppressions", got, dups, personDenied)
	}
	if got := snap.Outcomes[event.StatusSuppressed]; got < int64(denied) {
		t.Errorf("suppressed outcomes = %d, want at least the %d consent denials", got, denied)
	}
	delivered := 0
	for _, c := range wantDelivered {
		delivered += c
	}
	if got, exp, dd := snap.Outcomes[event.StatusDelivered], snap.Outcomes[event.StatusExpired], snap.Outcomes[event.StatusDeduplicated]; int64(delivered)-got+int64(expired)-exp+int64(dups)-dd != personDenied {
		t.Errorf("delivered %d of %d, expired %d of %d, deduplicated %d of %d: the shortfall is not the %d suppressed by the person's earlier denial", got, delivered, exp, expired, dd, dups, personDenied)
	}

	got := map[string]int{}
	for _, e := range st.Sandbox.Meta().Events() {
		got[e.EventID]++
		if want, ok := wantEmailHash[e.EventID]; ok {
			em := emValues(e.UserData)
			if len(em) != 1 || em[0] != want {
				t.Errorf("event %s: em = %v, want [%s]", e.EventID, em, want)
			}
		}
		if e.TestEventCode != "TEST4242" {
			t.Errorf("event %s: test_event_code %q", e.EventID, e.TestEventCode)
		}
	}
	if int64(len(got)) != snap.Outcomes[event.StatusDelivered] {
		t.Errorf("sandbox has %d distinct events, the ledger %d delivered", len(got), snap.Outcomes[event.StatusDelivered])
	}
	for id, c := range got {
		if deniedIDs[id] {
			t.Errorf("event %s reached the sandbox though its consent denied ad_user_data", id)
		}
		if c != 1 || wantDelivered[id] != 1 {
			t.Errorf("event %s reached the sandbox %d times; the generator meant it to reach it %d times", id, c, wantDelivered[id])
		}
	}
}

// idAndEmail reads the event id and raw email from a generated record in
// either format.
func idAndEmail(t *testing.T, v []byte) (string, string) {
	t.Helper()
	var m struct {
		EventID   string `json:"event_id"`
		MessageID string `json:"messageId"`
		User      struct {
			Email string `json:"email"`
		} `json:"user"`
		Context struct {
			Traits struct {
				Email string `json:"email"`
			} `json:"traits"`
		} `json:"context"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatalf("generated valid record is not JSON: %v", err)
	}
	if m.MessageID != "" {
		return m.MessageID, m.Context.Traits.Email
	}
	return m.EventID, m.User.Email
}

// consentDenied reads whether a generated record denies ad_user_data.
func consentDenied(t *testing.T, v []byte) bool {
	t.Helper()
	var m struct {
		Consent struct {
			AdUserData string `json:"ad_user_data"`
		} `json:"consent"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatalf("generated valid record is not JSON: %v", err)
	}
	return m.Consent.AdUserData == "denied"
}

func emValues(ud map[string]any) []string {
	var out []string
	switch v := ud["em"].(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
