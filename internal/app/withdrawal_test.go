package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// TestWithdrawalPurgesQueuedDeliveries: while Meta is down, a person's
// conversions wait in sp.out.meta; the person then withdraws consent. When
// Meta is back, those queued conversions are not sent (suppressed,
// consent_withdrawn), while another person's are delivered.
func TestWithdrawalPurgesQueuedDeliveries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, demo.StackOptions{TrackRecords: true, Tune: func(c *config.Config) {
		c.Deliver.InitialBackoff = 20 * time.Millisecond
		c.Deliver.MaxBackoff = 100 * time.Millisecond
		c.Deliver.MaxRetryElapsed = time.Second
		c.Deliver.Breaker.OpenFor = 300 * time.Millisecond
		c.Deliver.Breaker.MaxOpenFor = 600 * time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Sandbox.SetFault("meta", sandbox.Fault{Status: 503})

	now := time.Now().Add(-time.Hour).UTC()
	conv := func(id, user string, at time.Time, consent string) demo.Record {
		c := ""
		if consent != "" {
			c = fmt.Sprintf(`,"consent":{"ad_user_data":%q}`, consent)
		}
		return demo.Record{Topic: demo.TopicCRM, Value: []byte(fmt.Sprintf(
			`{"event_id":%q,"event_name":"closed_deal","event_time":%q,"source":"crm","user":{"user_id":%q,"email":"%s@example.com"}%s,"properties":{"value":10,"currency":"USD"}}`,
			id, at.Format(time.RFC3339), user, user, c))}
	}
	var queued []demo.Record
	for i := 0; i < 3; i++ {
		queued = append(queued, conv(fmt.Sprintf("leaver-%d", i), "leaver", now.Add(time.Duration(i)*time.Minute), ""))
		queued = append(queued, conv(fmt.Sprintf("stayer-%d", i), "stayer", now.Add(time.Duration(i)*time.Minute), ""))
	}
	inputs, err := st.Produce(ctx, queued)
	if err != nil {
		t.Fatal(err)
	}
	// Wait until all six are routed (queued for Meta, which is down).
	for st.Ledger.Snapshot().Routed < int64(len(queued)) {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of %d routed", st.Ledger.Snapshot().Routed, len(queued))
		case <-time.After(20 * time.Millisecond):
		}
	}
	more, err := st.Produce(ctx, []demo.Record{conv("leaver-withdraws", "leaver", now.Add(10*time.Minute), event.ConsentDenied)})
	if err != nil {
		t.Fatal(err)
	}
	// The withdrawal's own outcome (suppressed, consent_denied) is written
	// with the withdrawal marker; then Meta comes back.
	for st.Ledger.Snapshot().Reasons["meta"]["suppressed: consent_denied"] < 1 {
		select {
		case <-ctx.Done():
			t.Fatal("the withdrawal was never processed")
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The deliver stages learn of it by following sp.state.withdrawals;
	// Meta comes back once they have (under load that can take a moment,
	// and an event already in a request when it arrives may go).
	leaver := ingest.IdentityKey(&event.Event{User: event.User{UserID: "leaver"}})
	for !st.App.Withdrawn(string(leaver), now) {
		select {
		case <-ctx.Done():
			t.Fatal("the deliver stages never learned of the withdrawal")
		case <-time.After(20 * time.Millisecond):
		}
	}
	st.Sandbox.ClearFaults()
	if _, err := st.WaitBalanced(ctx, append(inputs, more...)); err != nil {
		t.Fatal(err)
	}
	snap := st.Ledger.Snapshot()
	if got := snap.Reasons["meta"]["suppressed: consent_withdrawn"]; got != 3 {
		t.Errorf("%d queued conversions purged, want the leaver's 3 (reasons %v)", got, snap.Reasons["meta"])
	}
	sent := map[string]bool{}
	for _, e := range st.Sandbox.Meta().Events() {
		sent[e.EventID] = true
	}
	for i := 0; i < 3; i++ {
		if sent[fmt.Sprintf("leaver-%d", i)] {
			t.Errorf("leaver-%d reached Meta after the withdrawal", i)
		}
		if !sent[fmt.Sprintf("stayer-%d", i)] {
			t.Errorf("stayer-%d did not reach Meta", i)
		}
	}
}
