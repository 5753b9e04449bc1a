package desttest

import (
	"net/http"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// CheckResults fails t unless a classification is usable by deliver: either
// an error that is a *destination.PermanentError or a
// *destination.RetryableError, or exactly n results of known statuses. Fuzz
// tests of platforms' classify functions call it on every input.
func CheckResults(t testing.TB, res []destination.Result, err error, n int) {
	t.Helper()
	if err != nil {
		_, perm := destination.AsPermanent(err)
		_, retry := destination.AsRetryable(err)
		if !perm && !retry {
			t.Fatalf("error %T is neither permanent nor retryable: %v", err, err)
		}
		return
	}
	if len(res) != n {
		t.Fatalf("%d results for %d events", len(res), n)
	}
	for i, r := range res {
		if r.Status < destination.Delivered || r.Status > destination.Retry {
			t.Fatalf("result %d has status %d", i, r.Status)
		}
	}
}

// Seed is one platform answer to start fuzzing from.
type Seed struct {
	Status int
	Body   string
	// N is the number of events the answer is for.
	N int
}

// FuzzClassify fuzzes a platform's classify function (HTTP status, headers,
// body, number of events in the batch) from seeds: whatever the platform
// answers, the result must pass CheckResults and nothing may panic.
func FuzzClassify(f *testing.F, classify func(status int, h http.Header, body []byte, n int) ([]destination.Result, error), seeds ...Seed) {
	for _, s := range seeds {
		f.Add(s.Status, s.Body, s.N)
	}
	f.Fuzz(func(t *testing.T, status int, body string, n int) {
		n = n%50 + 1
		if n < 1 {
			n = -n + 1
		}
		res, err := classify(status, http.Header{"Retry-After": {"1"}}, []byte(body), n)
		CheckResults(t, res, err, n)
	})
}
