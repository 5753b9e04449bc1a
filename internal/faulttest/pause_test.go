package faulttest

import (
	"context"
	"time"
)

// pause waits d, or less when ctx ends first: the polling loops and fault
// windows of these tests use it, so none outlives its deadline.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
