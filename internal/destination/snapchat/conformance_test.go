package snapchat

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
			{Name: "success", Status: 200, Body: `{"status":"SUCCESS","reason":"SUCCESS"}`, Want: desttest.Delivered},
			{Name: "invalid", Status: 400, Body: `{"status":"INVALID","reason":"Unhashed PII"}`, Want: desttest.Rejected, Reason: "invalid_parameter"},
			{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: `{}`, Want: desttest.Retry, Reason: "throttled"},
			{Name: "unavailable", Status: 503, Body: `oops`, Want: desttest.Retry},
			{Name: "token rejected", Status: 401, Body: `{"status":"UNAUTHORIZED"}`, Want: desttest.Credential},
		},
	})
}
