package googleads

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// FuzzResults: any 2xx body gives either one result per row, each with a
// known status, or a typed error; never a panic.
func FuzzResults(f *testing.F) {
	f.Add(3, partial(3, 1, "conversionUploadError", "TOO_RECENT_EVENT"))
	f.Add(1, []byte(`{"results":[{}],"partialFailureError":{"details":[{"errors":[{"errorCode":{},"location":{"fieldPathElements":[{"fieldName":"conversions","index":-4}]}}]}]}}`))
	f.Add(2, []byte(`{"results":[]}`))
	f.Fuzz(func(t *testing.T, n int, body []byte) {
		if n < 1 || n > 2000 {
			return
		}
		res, err := results(21, n, body)
		if err != nil {
			_, p := destination.AsPermanent(err)
			_, r := destination.AsRetryable(err)
			if !p && !r {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(res) != n {
			t.Fatalf("%d results for %d rows", len(res), n)
		}
		for _, r := range res {
			if r.Status < destination.Delivered || r.Status > destination.Retry {
				t.Fatalf("status %d", r.Status)
			}
		}
	})
}
