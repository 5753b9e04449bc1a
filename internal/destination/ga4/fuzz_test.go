package ga4

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// validateAnswer is what Send does in validate mode with a response.
func validateAnswer(status int, h http.Header, body []byte, n int) ([]destination.Result, error) {
	if err := classify(status, h); err != nil {
		return nil, err
	}
	return validationResults(n, body)
}

// FuzzClassify: whatever the validation server answers, deliver gets a
// typed error or one known result per event; never a panic.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, validateAnswer,
		desttest.Seed{Status: 200, Body: `{"validationMessages":[{"fieldPath":"events","description":"Event at index: [9] bad","validationCode":"NAME_INVALID"}]}`, N: 2},
		desttest.Seed{Status: 200, Body: `{"validationMessages":[{"fieldPath":"events[0].x"}]}`, N: 1},
		desttest.Seed{Status: 429, Body: ``, N: 3},
	)
}
