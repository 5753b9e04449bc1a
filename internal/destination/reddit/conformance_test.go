package reddit

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// TestConformance runs the suite every destination passes, with a small
// batch size so the split check stays quick (TestBatchLimit covers 1,000).
func TestConformance(t *testing.T) {
	t.Parallel()
	desttest.Run(t, desttest.Suite{
		New: func(t testing.TB, endpoint string) destination.Destination {
			c := testConfig()
			c.Endpoint = endpoint
			c.BatchSize = 20
			d, err := New(c, "test-token", nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Responses: []desttest.Response{
			{Name: "processed", Status: 200, Body: `{"data":{"message":"Successfully processed 1 conversion events."}}`, Want: desttest.Delivered},
			{Name: "event invalid", Status: 400, Body: `{"error":{"code":"INVALID_EVENTS","message":"1 of 1 events are invalid","details":[{"index":0,"field":"data.events[0].user.email","message":"value \"john_smith@gmail.com\" is not hashed"}]}}`, Want: desttest.Rejected, Reason: "invalid_event"},
			{Name: "request invalid", Status: 400, Body: `{"error":{"code":"INVALID_REQUEST","message":"m"}}`, Want: desttest.Rejected, Reason: "invalid_request"},
			{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"4"}}, Want: desttest.Retry, Reason: "throttled", RetryAfter: 4 * time.Second},
			{Name: "throttled without header", Status: 429, Want: desttest.Retry, RetryAfter: DefaultThrottleBackoff},
			{Name: "unavailable", Status: 502, Body: `<html>`, Want: desttest.Retry, Reason: "platform_unavailable"},
			{Name: "bad token", Status: 401, Body: `{"error":{"code":"UNAUTHORIZED","message":"m"}}`, Want: desttest.Credential, Reason: "auth_error"},
			{Name: "token for another pixel", Status: 403, Body: `{"error":{"code":"FORBIDDEN","message":"m"}}`, Want: desttest.Credential},
			{Name: "unknown pixel", Status: 404, Body: `{"error":{"code":"NOT_FOUND","message":"m"}}`, Want: desttest.Credential, Reason: "unknown_pixel"},
		},
	})
}
