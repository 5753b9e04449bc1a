package pinterest

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
			{Name: "processed", Status: 200, Body: `{"num_events_received":1,"num_events_processed":1,"events":[{"status":"processed","error_message":"","warning_message":""}]}`, Want: desttest.Delivered},
			{Name: "failed event", Status: 422, Body: `{"code":953,"message":"invalid","details":{"num_events_received":1,"num_events_processed":0,"events":[{"status":"failed","error_message":"Invalid event_timestamp parameter.","warning_message":""}]}}`, Want: desttest.Rejected, Reason: "invalid_event"},
			{Name: "bad request", Status: 400, Body: `{"code":1,"message":"bad"}`, Want: desttest.Rejected, Reason: "invalid_parameter"},
			{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"3"}}, Body: `{"code":8,"message":"rate limit"}`, Want: desttest.Retry, Reason: "throttled"},
			{Name: "unavailable", Status: 503, Body: `oops`, Want: desttest.Retry},
			{Name: "token rejected", Status: 401, Body: `{"code":2,"message":"Authentication failed."}`, Want: desttest.Credential},
			{Name: "no access to the ad account", Status: 403, Body: `{"code":29,"message":"not permitted"}`, Want: desttest.Credential},
		},
	})
}
