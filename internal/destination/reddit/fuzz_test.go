package reddit

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever Reddit answers, classify never panics and gives
// deliver a typed error or one known result per event.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, classify,
		desttest.Seed{Status: 200, Body: `{"data":{"message":"ok"}}`, N: 2},
		desttest.Seed{Status: 400, Body: `{"error":{"code":"INVALID_EVENTS","details":[{"index":1,"field":"f","message":"m"},{"index":-4}]}}`, N: 2},
		desttest.Seed{Status: 400, Body: `{"error":{"details":[{"index":99999999999}]}}`, N: 1},
		desttest.Seed{Status: 429, N: 1},
	)
}
