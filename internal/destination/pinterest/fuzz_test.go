package pinterest

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
)

// FuzzClassify: whatever Pinterest answers, classify returns one result per
// event or a typed error, never both, and never panics.
func FuzzClassify(f *testing.F) {
	f.Add(200, []byte(`{"num_events_received":1,"num_events_processed":1,"events":[{"status":"processed"}]}`), 1)
	f.Add(422, []byte(`{"code":953,"details":{"events":[{"status":"failed"}]}}`), 1)
	f.Add(401, []byte(`{"code":2}`), 3)
	f.Fuzz(func(t *testing.T, status int, body []byte, n int) {
		n = n%2001 + 1
		if n < 1 {
			n = 1
		}
		res, err := classify(status, http.Header{}, body, n)
		platformtest.CheckAnswer(t, res, err, n)
	})
}
