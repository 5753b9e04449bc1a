package tiktok

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
)

// FuzzClassify: whatever TikTok answers, classify returns one result per
// event or a typed error, never both, and never panics.
func FuzzClassify(f *testing.F) {
	f.Add(200, []byte(`{"code":0,"message":"OK"}`), 2)
	f.Add(200, []byte(`{"code":20001,"data":{"failed_events":[{"index":[1,5,-1]},{"index":"x"}]}}`), 3)
	f.Add(429, []byte(``), 1)
	f.Fuzz(func(t *testing.T, status int, body []byte, n int) {
		n = n%2001 + 1
		if n < 1 {
			n = 1
		}
		res, err := classify(status, http.Header{}, body, n)
		platformtest.CheckAnswer(t, res, err, n)
	})
}
