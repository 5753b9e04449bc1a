package webhook

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
			c.URL = endpoint + "/hooks/conformance"
			d, err := New(c, "test-secret", nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Responses: []desttest.Response{
			{Name: "accepted", Status: 200, Body: `{"ok":true}`, Want: desttest.Delivered},
			{Name: "accepted without body", Status: 204, Want: desttest.Delivered},
			{Name: "refused", Status: 422, Body: `{"error":{"message":"nope"}}`, Want: desttest.Rejected, Reason: "http_422"},
			{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"7"}}, Want: desttest.Retry, Reason: "throttled"},
			{Name: "down", Status: 503, Want: desttest.Retry},
			{Name: "bad signature", Status: 401, Body: `{"error":"bad signature"}`, Want: desttest.Credential},
		},
	})
}
