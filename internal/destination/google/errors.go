package google

import (
	"encoding/json"
	"net/http"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/googleapi"
)

// classify turns an events:ingest answer into the request id (accepted) or
// an error. The table in errors_test.go is the contract:
//
//	2xx with {"requestId"}            accepted; requestId is the platform ref
//	2xx without a readable body       retry "bad_response" (resending is deduplicated by transactionId)
//	400 INVALID_ARGUMENT              permanent "invalid_argument" (fast-fail: deliver splits the batch)
//	401 UNAUTHENTICATED               permanent "auth_error", credential
//	403 PERMISSION_DENIED             permanent "permission_error", credential
//	429 RESOURCE_EXHAUSTED            retry "throttled" after Retry-After, else 60 s
//	500, 503, 504, ABORTED            retry
//	other 4xx                         permanent, reason the lower-case status
func classify(status int, header http.Header, body []byte) (requestID string, err error) {
	if status >= 200 && status < 300 {
		var ok struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(body, &ok) != nil {
			return "", &destination.RetryableError{Reason: "bad_response", Detail: "2xx with an unreadable body"}
		}
		return ok.RequestID, nil
	}
	return "", googleapi.ClassifyStatus(status, header, googleapi.ParseStatus(status, body))
}
