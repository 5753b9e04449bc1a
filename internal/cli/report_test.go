package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/quality"
)

// TestReportAndTraceCommands runs `signalpipe report` and `signalpipe trace`
// against a served quality stage, as a performance team member would from a
// laptop with the token in the environment.
func TestReportAndTraceCommands(t *testing.T) {
	// Not parallel: it sets an environment variable.
	t.Setenv("TEST_SP_TOKEN", "cli-token")
	mon := quality.NewMonitor(quality.Config{}, quality.MonitorOptions{})
	at := time.Now().Add(-10 * time.Minute)
	for _, o := range []event.Outcome{
		{Record: "web/0/1", EventID: "order-1", EventName: "purchase", Source: "web", Status: event.StatusRouted, Destinations: []string{"meta"}, At: at},
		{Record: "web/0/1", EventID: "order-1", EventName: "purchase", Source: "web", Destination: "meta", Status: event.StatusDelivered, PlatformRef: "fbtrace-77", Attempts: 1, At: at},
		{Record: "web/0/2", EventID: "order-2", EventName: "purchase", Source: "web", Status: event.StatusRouted, Destinations: []string{"meta"}, At: at},
		{Record: "web/0/2", EventID: "order-2", EventName: "purchase", Source: "web", Destination: "meta", Status: event.StatusRejected, Reason: "invalid_parameter", At: at},
		{Record: "web/0/3", Source: "web", Status: event.StatusInvalid, Reason: "malformed_json", At: at},
	} {
		mon.Add(o)
	}
	srv := httptest.NewServer((&quality.Server{Token: "cli-token", Monitor: mon, Status: func() quality.Status { return quality.Status{} }}).Handler())
	defer srv.Close()
	api := []string{"--url", srv.URL, "--token-env", "TEST_SP_TOKEN"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, out, errOut string)
	}{
		{"table", append([]string{"report", "--since", "1h"}, api...), exitOK, func(t *testing.T, out, _ string) {
			for _, want := range []string{"received                  3", "delivered                 1", "meta", "invalid_parameter", "order-2"} {
				if !strings.Contains(out, want) {
					t.Errorf("table lacks %q:\n%s", want, out)
				}
			}
		}},
		{"json", append([]string{"report", "--since", "1h", "--format", "json", "--event-name", "purchase"}, api...), exitOK, func(t *testing.T, out, _ string) {
			var r quality.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Filter.EventName != "purchase" || r.Totals.Received != 2 || r.Totals.Rejected != 1 {
				t.Errorf("report = %+v", r.Totals)
			}
		}},
		{"csv", append([]string{"report", "--format", "csv"}, api...), exitOK, func(t *testing.T, out, _ string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) < 3 || rows[1][0] != "total" || rows[1][2] != "3" {
				t.Errorf("csv = %q (%v)", rows, err)
			}
		}},
		{"bad format", append([]string{"report", "--format", "xml"}, api...), exitUsage, nil},
		{"bad since", append([]string{"report", "--since", "last tuesday"}, api...), exitFailed, func(t *testing.T, _, errOut string) {
			if !strings.Contains(errOut, "since") {
				t.Errorf("stderr = %q", errOut)
			}
		}},
		{"no token", []string{"report", "--url", srv.URL, "--token-env", "TEST_SP_NOT_SET"}, exitFailed, func(t *testing.T, _, errOut string) {
			if !strings.Contains(errOut, "TEST_SP_NOT_SET") || strings.Contains(errOut, "cli-token") {
				t.Errorf("stderr = %q", errOut)
			}
		}},
		{"trace", append([]string{"trace", "order-1"}, api...), exitOK, func(t *testing.T, out, _ string) {
			if !strings.Contains(out, "meta: delivered, platform ref fbtrace-77") {
				t.Errorf("trace:\n%s", out)
			}
		}},
		{"trace unknown", append([]string{"trace", "order-404"}, api...), exitFailed, func(t *testing.T, _, errOut string) {
			if !strings.Contains(errOut, "not in the trace index") {
				t.Errorf("stderr = %q", errOut)
			}
		}},
		{"trace without id", append([]string{"trace"}, api...), exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := Main(context.Background(), tt.args, IO{Out: &out, Err: &errOut})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.wantCode, errOut.String())
			}
			if tt.check != nil {
				tt.check(t, out.String(), errOut.String())
			}
		})
	}
}
