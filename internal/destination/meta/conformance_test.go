package meta

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	desttest.Run(t, desttest.Suite{
		New: func(t testing.TB, endpoint string) destination.Destination {
			c := testConfig()
			c.Endpoint = endpoint
			d, err := New(c, "test-token", nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Responses: []desttest.Response{
			{Name: "accepted", Status: 200, Body: `{"events_received":1,"messages":[],"fbtrace_id":"AbC"}`, Want: desttest.Delivered},
			{Name: "unhashed PII", Status: 400, Body: string(graph(100, 2804016, false)), Want: desttest.Rejected, Reason: "invalid_parameter"},
			{Name: "throttled with Retry-After", Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: string(graph(613, 1487742, false)), Want: desttest.Retry, Reason: "throttled"},
			{Name: "unavailable", Status: 503, Body: `oops`, Want: desttest.Retry},
			{Name: "token expired", Status: 400, Body: string(graph(190, 463, false)), Want: desttest.Credential},
			{Name: "no permission", Status: 403, Body: string(graph(200, 0, false)), Want: desttest.Credential},
		},
	})
}
