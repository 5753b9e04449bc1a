package linkedin

import (
	"net/http"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// TestConformance runs the suite every destination passes. The batch size is
// lowered so that the split check sends three small requests instead of
// 10,001 events; TestBatchLimit covers LinkedIn's 5,000.
func TestConformance(t *testing.T) {
	t.Parallel()
	one := func(status string) string { return `{"elements":[` + status + `]}` }
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
			{Name: "created", Status: 200, Body: one(`{"status":201}`), Want: desttest.Delivered},
			{Name: "already received", Status: 200, Body: one(`{"status":409}`), Want: desttest.Delivered, Reason: "duplicate"},
			{Name: "element invalid", Status: 200, Body: one(`{"status":400,"error":{"status":400,"code":"INVALID_FIELD_VALUE","message":"ERROR :: /elements/0/user/userInfo/firstName :: 'John' is invalid"}}`), Want: desttest.Rejected, Reason: "invalid_field_value"},
			{Name: "element throttled", Status: 200, Body: one(`{"status":429}`), Want: desttest.Retry, RetryAfter: DefaultThrottleBackoff},
			{Name: "request invalid", Status: 400, Body: `{"status":400,"code":"ILLEGAL_ARGUMENT","message":"m"}`, Want: desttest.Rejected, Reason: "invalid_request"},
			{Name: "throttled", Status: 429, Header: http.Header{"Retry-After": {"7"}}, Want: desttest.Retry, Reason: "throttled", RetryAfter: 7 * time.Second},
			{Name: "unavailable", Status: 503, Body: `oops`, Want: desttest.Retry},
			{Name: "token expired", Status: 401, Body: `{"status":401,"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`, Want: desttest.Credential, Reason: "auth_error"},
			{Name: "no permission", Status: 403, Body: `{"status":403,"code":"ACCESS_DENIED","message":"m"}`, Want: desttest.Credential},
			{Name: "version sunset", Status: 426, Body: `{"status":426,"code":"NONEXISTENT_VERSION","message":"m"}`, Want: desttest.Credential, Reason: "unsupported_version"},
		},
	})
}
