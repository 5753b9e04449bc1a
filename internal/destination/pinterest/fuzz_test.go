package pinterest

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever Pinterest answers, classify returns one result per
// event or a typed error, and never panics.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, classify,
		desttest.Seed{Status: 200, Body: `{"num_events_received":1,"num_events_processed":1,"events":[{"status":"processed"}]}`, N: 1},
		desttest.Seed{Status: 422, Body: `{"code":953,"details":{"events":[{"status":"failed"}]}}`, N: 1},
		desttest.Seed{Status: 401, Body: `{"code":2}`, N: 3},
	)
}
