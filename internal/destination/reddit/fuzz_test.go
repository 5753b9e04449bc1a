package reddit

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever the platform answers, classify never panics and
// gives either an error of the two kinds deliver acts on or exactly one
// known result per event.
func FuzzClassify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.status, s.body, s.n)
	}
	f.Fuzz(func(t *testing.T, status int, body string, n int) {
		n = n%50 + 1
		if n < 1 {
			n = -n + 1
		}
		res, err := classify(status, http.Header{"Retry-After": {"1"}}, []byte(body), n)
		desttest.CheckResults(t, res, err, n)
	})
}

var fuzzSeeds = []struct {
	status int
	body   string
	n      int
}{
	{200, `{"data":{"message":"ok"}}`, 2},
	{400, `{"error":{"code":"INVALID_EVENTS","details":[{"index":1,"field":"f","message":"m"},{"index":-4}]}}`, 2},
	{400, `{"error":{"details":[{"index":99999999999}]}}`, 1},
	{429, ``, 1},
}
