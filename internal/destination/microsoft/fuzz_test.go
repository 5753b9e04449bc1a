package microsoft

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever either API answers, classify never panics and
// gives either an error of the two kinds deliver acts on or exactly one
// known result per event.
func FuzzClassify(f *testing.F) {
	f.Add(true, 200, `{"eventsReceived":1,"errors":[{"index":1,"message":"m"}]}`, 2)
	f.Add(true, 400, `{"error":{"code":"InvalidEvents"},"errors":[{"index":-1}]}`, 1)
	f.Add(false, 200, `{"PartialErrors":[{"Index":0,"ErrorCode":"X"},{"Index":7}]}`, 2)
	f.Add(false, 400, `{"OperationErrors":[{"ErrorCode":"CallRateExceeded"}],"BatchErrors":[{"Index":0}]}`, 1)
	f.Fuzz(func(t *testing.T, uet bool, status int, body string, n int) {
		n = n%50 + 1
		if n < 1 {
			n = -n + 1
		}
		api := APIOffline
		if uet {
			api = APIUET
		}
		res, err := classify(api, status, http.Header{"Retry-After": {"1"}}, []byte(body), n)
		desttest.CheckResults(t, res, err, n)
	})
}
