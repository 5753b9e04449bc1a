package ga4

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
)

// FuzzValidationResults: any answer of the validation server gives one
// result per event or a retryable error; never a panic.
func FuzzValidationResults(f *testing.F) {
	f.Add(2, []byte(`{"validationMessages":[{"fieldPath":"events","description":"Event at index: [9] bad","validationCode":"NAME_INVALID"}]}`))
	f.Add(1, []byte(`{"validationMessages":[{"fieldPath":"events[0].x"}]}`))
	f.Fuzz(func(t *testing.T, n int, body []byte) {
		if n < 1 || n > MaxBatchSize {
			return
		}
		res, err := validationResults(n, body)
		if err != nil {
			if _, ok := destination.AsRetryable(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(res) != n {
			t.Fatalf("%d results for %d events", len(res), n)
		}
	})
}
