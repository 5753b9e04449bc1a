package googleapi

import (
	"slices"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

func TestDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2019, 1, 1, 12, 32, 45, 0, time.FixedZone("PST", -8*3600)), "2019-01-01 20:32:45+00:00"},
		{time.Date(2026, 11, 20, 10, 0, 0, 999, time.UTC), "2026-11-20 10:00:00+00:00"},
	}
	for _, tt := range tests {
		if got := DateTime(tt.in); got != tt.want {
			t.Errorf("DateTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExportRows: rows of the import files, with hashes from sha256sum and
// the conversion name from conversion_action_names.
func TestExportRows(t *testing.T) {
	t.Parallel()
	v := 142.52
	ev := &event.Event{EventID: "e-1", EventName: event.NamePurchase, EventTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		User:       event.User{Email: "John.Smith@gmail.com", Phone: "+1 650 555 1212"},
		Context:    event.Context{ClickIDs: event.ClickIDs{Gclid: "Cj0"}},
		Properties: event.Properties{Value: &v, Currency: "usd", OrderID: "ord-1"}}
	ca := ConversionActions{ConversionActionID: "77", ConversionActionNames: map[string]string{"77": "Offline purchase"}}
	row, err := ca.ClickExportRow(ev, "")
	want := []string{"Cj0", "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586",
		"1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8", "Offline purchase",
		"2026-11-20 10:00:00+00:00", "142.52", "USD", "ord-1"}
	if err != nil || !slices.Equal(row, want) || len(row) != len(ClickExportHeader) {
		t.Errorf("click row %q, %v\nwant %q", row, err, want)
	}
	row, err = ca.AdjustmentExportRow(ev, "RESTATEMENT")
	if err != nil || !slices.Equal(row, []string{"ord-1", "Offline purchase", "2026-11-20 10:00:00+00:00", "RESTATEMENT", "142.52", "USD"}) {
		t.Errorf("adjustment row %q, %v", row, err)
	}
	row, _ = ca.AdjustmentExportRow(ev, "RETRACTION")
	if row[4] != "" || row[5] != "" {
		t.Errorf("a retraction carries no value: %q", row)
	}
	ev.User, ev.Context = event.User{}, event.Context{}
	if _, err := ca.ClickExportRow(ev, ""); err == nil {
		t.Error("a row without gclid, e-mail or phone cannot be imported")
	}
}
