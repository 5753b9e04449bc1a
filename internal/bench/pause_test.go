package bench

import (
	"context"
	"time"
)

// pause waits d, or less when ctx ends first, for the benchmarks' polling
// loops.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
