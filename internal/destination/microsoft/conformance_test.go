package microsoft

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// TestConformance runs the suite for both APIs, each with its own goldens
// and answer table; batches are small so the split check stays quick
// (TestBatchLimit covers 1,000).
func TestConformance(t *testing.T) {
	t.Parallel()
	open := func(base func() Config) func(t testing.TB, endpoint string) destination.Destination {
		return func(t testing.TB, endpoint string) destination.Destination {
			c := base()
			c.Endpoint = endpoint
			c.BatchSize = 20
			d, err := New(c, "test-token", "test-developer-token", nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Run("uet", func(t *testing.T) {
		t.Parallel()
		desttest.Run(t, desttest.Suite{
			New:      open(uetConfig),
			Testdata: "testdata/uet",
			Responses: []desttest.Response{
				{Name: "received", Status: 200, Body: `{"eventsReceived":1}`, Want: desttest.Delivered},
				{Name: "event invalid", Status: 200, Body: `{"eventsReceived":0,"errors":[{"index":0,"field":"data[0].userData.em","message":"'john_smith@gmail.com' is not hashed"}]}`, Want: desttest.Rejected, Reason: "invalid_event"},
				{Name: "count missing events", Status: 200, Body: `{"eventsReceived":0}`, Want: desttest.Retry, Reason: "bad_response"},
				{Name: "request invalid", Status: 400, Body: `{"error":{"code":"InvalidRequest","message":"m"}}`, Want: desttest.Rejected, Reason: "invalid_request"},
				{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"6"}}, Want: desttest.Retry, Reason: "throttled", RetryAfter: 6 * time.Second},
				{Name: "unavailable", Status: 500, Want: desttest.Retry},
				{Name: "bad token", Status: 401, Body: `{"error":{"code":"Unauthorized","message":"m"}}`, Want: desttest.Credential, Reason: "auth_error"},
				{Name: "pilot not enabled", Status: 403, Body: `{"error":{"code":"Forbidden","message":"m"}}`, Want: desttest.Credential, Reason: "permission_error"},
				{Name: "unknown tag", Status: 404, Body: `{"error":{"code":"TagNotFound","message":"m"}}`, Want: desttest.Credential, Reason: "unknown_tag"},
			},
		})
	})
	t.Run("offline", func(t *testing.T) {
		t.Parallel()
		desttest.Run(t, desttest.Suite{
			New:      open(offlineConfig),
			Testdata: "testdata/offline",
			Responses: []desttest.Response{
				{Name: "applied", Status: 200, Body: `{"PartialErrors":null}`, Want: desttest.Delivered},
				{Name: "conversion invalid", Status: 200, Body: `{"PartialErrors":[{"Code":4803,"ErrorCode":"OfflineConversionTimeInvalid","Index":0,"Message":"m","Type":"BatchError"}]}`, Want: desttest.Rejected, Reason: "invalid_conversion"},
				{Name: "request invalid", Status: 400, Body: `{"Type":"ApiFault","OperationErrors":[{"Code":4810,"ErrorCode":"OfflineConversionsLimitExceeded","Message":"m"}]}`, Want: desttest.Rejected, Reason: "invalid_request"},
				{Name: "call rate exceeded", Status: 400, Body: `{"Type":"ApiFault","OperationErrors":[{"Code":117,"ErrorCode":"CallRateExceeded","Message":"m"}]}`, Want: desttest.Retry, Reason: "throttled", RetryAfter: DefaultThrottleBackoff},
				{Name: "unavailable", Status: 503, Want: desttest.Retry, Reason: "platform_unavailable"},
				{Name: "token expired", Status: 401, Body: `{"Type":"ApiFault","OperationErrors":[{"Code":109,"ErrorCode":"AuthenticationTokenExpired","Message":"m"}]}`, Want: desttest.Credential, Reason: "auth_error"},
				{Name: "developer token invalid", Status: 400, Body: `{"Type":"ApiFault","OperationErrors":[{"Code":105,"ErrorCode":"InvalidDeveloperToken","Message":"m"}]}`, Want: desttest.Credential},
			},
		})
	})
}
