package microsoft

import (
	"slices"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// TestExportRow: the degraded path's file rows are Microsoft's offline
// import columns, for both apis, and events without a click id are refused.
func TestExportRow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfg        func() Config
		path       string
		noClick    bool
		want       []string
		wantReason string
	}{
		{"offline deal", offlineConfig, "testdata/offline/crm_closed_deal.event.json", false,
			[]string{"5f2a8c1e9b3d4e7fa0c6b2d8e1f4a7c3", "Closed deal", "2026-11-20T10:00:00Z", "2500", "EUR"}, ""},
		{"uet purchase under its event name", uetConfig, "testdata/uet/web_purchase.event.json", false,
			[]string{"5f2a8c1e9b3d4e7fa0c6b2d8e1f4a7c3", "purchase", "2026-11-20T10:00:00Z", "142.52", "USD"}, ""},
		{"no click id", uetConfig, "testdata/uet/web_purchase.event.json", true, nil, "no_click_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg()
			c.Endpoint = "http://127.0.0.1:9"
			cl, err := New(c, "t", "d", nil)
			if err != nil {
				t.Fatal(err)
			}
			ev := platformtest.LoadEvent(t, tt.path)
			if tt.noClick {
				ev.Context.ClickIDs.Msclkid = ""
			}
			row, err := cl.ExportRow(ev)
			if tt.wantReason != "" {
				if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != tt.wantReason {
					t.Fatalf("err = %v, want %s", err, tt.wantReason)
				}
				return
			}
			if err != nil || !slices.Equal(row, tt.want) || len(row) != len(cl.ExportHeader()) {
				t.Errorf("row = %q (err %v), want %q", row, err, tt.want)
			}
		})
	}
}
