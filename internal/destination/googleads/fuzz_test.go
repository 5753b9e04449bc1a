package googleads

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// answer is what Send does with a response: per-row results for 2xx, a
// classified error otherwise.
func answer(status int, h http.Header, body []byte, n int) ([]destination.Result, error) {
	if status >= 200 && status < 300 {
		return results(21, n, body)
	}
	return nil, classify(status, h, body)
}

// FuzzClassify: whatever Google Ads answers, deliver gets a typed error or
// one known result per row; never a panic.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, answer,
		desttest.Seed{Status: 200, Body: string(partial(3, 1, "conversionUploadError", "TOO_RECENT_EVENT")), N: 3},
		desttest.Seed{Status: 200, Body: `{"results":[{}],"partialFailureError":{"details":[{"errors":[{"errorCode":{},"location":{"fieldPathElements":[{"fieldName":"conversions","index":-4}]}}]}]}}`, N: 1},
		desttest.Seed{Status: 401, Body: string(failure(401, "UNAUTHENTICATED", "authenticationError", "OAUTH_TOKEN_INVALID")), N: 2},
		desttest.Seed{Status: 503, Body: `<html>`, N: 1},
	)
}
