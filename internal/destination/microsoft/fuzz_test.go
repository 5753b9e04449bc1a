package microsoft

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassifyUET: whatever the UET Conversions API answers, classify never
// panics and gives deliver a typed error or one known result per event.
func FuzzClassifyUET(f *testing.F) {
	desttest.FuzzClassify(f, classifyFor(APIUET),
		desttest.Seed{Status: 200, Body: `{"eventsReceived":1,"errors":[{"index":1,"message":"m"}]}`, N: 2},
		desttest.Seed{Status: 400, Body: `{"error":{"code":"InvalidEvents"},"errors":[{"index":-1}]}`, N: 1},
	)
}

// FuzzClassifyOffline: the same for ApplyOfflineConversions.
func FuzzClassifyOffline(f *testing.F) {
	desttest.FuzzClassify(f, classifyFor(APIOffline),
		desttest.Seed{Status: 200, Body: `{"PartialErrors":[{"Index":0,"ErrorCode":"X"},{"Index":7}]}`, N: 2},
		desttest.Seed{Status: 400, Body: `{"OperationErrors":[{"ErrorCode":"CallRateExceeded"}],"BatchErrors":[{"Index":0}]}`, N: 1},
	)
}

func classifyFor(api string) func(int, http.Header, []byte, int) ([]destination.Result, error) {
	return func(status int, h http.Header, body []byte, n int) ([]destination.Result, error) {
		return classify(api, status, h, body, n)
	}
}
