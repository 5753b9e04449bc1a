package snapchat

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever Snap answers, classify accepts the whole batch or
// returns a typed error, and never panics.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, results,
		desttest.Seed{Status: 200, Body: `{"status":"SUCCESS"}`, N: 2},
		desttest.Seed{Status: 400, Body: `{"status":"INVALID","reason":"x"}`, N: 1},
		desttest.Seed{Status: 503, Body: `<html>`, N: 1},
	)
}
