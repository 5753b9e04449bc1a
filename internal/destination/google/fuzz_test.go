package google

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// answer is what Send does with a response.
func answer(status int, h http.Header, body []byte, n int) ([]destination.Result, error) {
	ref, err := classify(status, h, body)
	if err != nil {
		return nil, err
	}
	res := make([]destination.Result, n)
	for i := range res {
		res[i] = destination.Result{Status: destination.Delivered, PlatformRef: ref}
	}
	return res, nil
}

// FuzzClassify: whatever the Data Manager API answers, deliver gets a typed
// error or one result per event; never a panic.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, answer,
		desttest.Seed{Status: 200, Body: `{"requestId":"r"}`, N: 2},
		desttest.Seed{Status: 400, Body: rpc(400, "INVALID_ARGUMENT", "bad"), N: 1},
		desttest.Seed{Status: 429, Body: `{"error":{"code":429,"details":[{"fieldViolations":[{}]}]}}`, N: 1},
	)
}
