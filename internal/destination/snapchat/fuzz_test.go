package snapchat

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// FuzzClassify: whatever Snap answers, classify accepts it or returns a
// typed error, and never panics.
func FuzzClassify(f *testing.F) {
	f.Add(200, []byte(`{"status":"SUCCESS"}`))
	f.Add(400, []byte(`{"status":"INVALID","reason":"x"}`))
	f.Add(503, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		_, err := classify(status, http.Header{}, body)
		if err == nil {
			return
		}
		_, perm := destination.AsPermanent(err)
		_, retry := destination.AsRetryable(err)
		if !perm && !retry {
			t.Fatalf("err %T %v is neither permanent nor retryable", err, err)
		}
	})
}
