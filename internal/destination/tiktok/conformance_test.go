package tiktok

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
			{Name: "accepted", Status: 200, Body: `{"code":0,"message":"OK","request_id":"R","data":{}}`, Want: desttest.Delivered},
			{Name: "invalid event", Status: 200, Body: `{"code":40000,"message":"data[0].user.email: must be hashed"}`, Want: desttest.Rejected, Reason: "invalid_parameter"},
			{Name: "partial naming the event", Status: 200, Body: `{"code":20001,"message":"Partial","data":{"failed_events":[{"index":0,"message":"bad"}]}}`, Want: desttest.Rejected},
			{Name: "throttled in a 200", Status: 200, Body: `{"code":40100,"message":"Too many requests"}`, Want: desttest.Retry, Reason: "throttled", RetryAfter: DefaultThrottleBackoff},
			{Name: "429 with Retry-After", Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: `{"code":40100}`, Want: desttest.Retry, Reason: "throttled"},
			{Name: "unavailable", Status: 503, Body: `oops`, Want: desttest.Retry},
			{Name: "token revoked", Status: 200, Body: `{"code":40105,"message":"Access token is incorrect or has been revoked."}`, Want: desttest.Credential},
			{Name: "no permission", Status: 200, Body: `{"code":40001,"message":"No permission"}`, Want: desttest.Credential},
		},
	})
}
