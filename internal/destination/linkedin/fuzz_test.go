package linkedin

import (
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination/desttest"
)

// FuzzClassify: whatever LinkedIn answers, classify never panics and gives
// deliver a typed error or one known result per event.
func FuzzClassify(f *testing.F) {
	desttest.FuzzClassify(f, classify,
		desttest.Seed{Status: 200, Body: `{"elements":[{"status":201},{"status":400,"error":{"code":"X","message":"m"}}]}`, N: 2},
		desttest.Seed{Status: 200, Body: `{"elements":[{"status":-1}]}`, N: 1},
		desttest.Seed{Status: 401, Body: `{"status":401,"code":"INVALID_ACCESS_TOKEN"}`, N: 1},
		desttest.Seed{Status: 500, Body: `<html>`, N: 3},
	)
}
