package desttest

import (
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
