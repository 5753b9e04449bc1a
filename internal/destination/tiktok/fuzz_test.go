package tiktok

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever TikTok answers, classify returns one result per
// event or a typed error, and never panics.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, classify,
		desttest.Seed{Status: 200, Body: `{"code":0,"message":"OK"}`, N: 2},
		desttest.Seed{Status: 200, Body: `{"code":20001,"data":{"failed_events":[{"index":[1,5,-1]},{"index":"x"}]}}`, N: 3},
		desttest.Seed{Status: 429, Body: ``, N: 1},
	)
}
