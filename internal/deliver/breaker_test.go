package deliver

import (
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBreakerLifecycle(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var trs []BreakerTransition
	b := NewBreaker("meta", BreakerConfig{Failures: 3, OpenFor: 10 * time.Second, MaxOpenFor: 30 * time.Second}, clk.now, nil)
	b.OnChange = func(tr BreakerTransition) { trs = append(trs, tr) }

	// Two failures and a success: still closed (failures must be in a row).
	b.Failure("503")
	b.Failure("503")
	b.Success()
	b.Failure("503")
	b.Failure("503")
	if b.State() != BreakerClosed {
		t.Fatalf("opened after non-consecutive failures")
	}
	b.Failure("503")
	if b.State() != BreakerOpen {
		t.Fatalf("state %s after 3 failures in a row, want open", b.State())
	}
	if ok, wait := b.Allow(); ok || wait != 10*time.Second {
		t.Fatalf("open breaker allowed a request (ok=%v wait=%s)", ok, wait)
	}
	clk.add(10 * time.Second)
	if ok, _ := b.Allow(); !ok || b.State() != BreakerHalfOpen {
		t.Fatalf("after the cool-down: ok=%v state=%s, want one probe, half-open", ok, b.State())
	}
	if ok, _ := b.Allow(); ok {
		t.Fatal("half-open breaker let a second request through with the probe in flight")
	}
	// The probe fails: open again, for twice as long.
	b.Failure("timeout")
	if ok, wait := b.Allow(); ok || wait != 20*time.Second {
		t.Fatalf("after a failed probe: ok=%v wait=%s, want 20s", ok, wait)
	}
	clk.add(20 * time.Second)
	b.Allow()
	b.Failure("timeout")
	if _, wait := b.Allow(); wait != 30*time.Second {
		t.Fatalf("cool-down %s, want capped at 30s", wait)
	}
	clk.add(30 * time.Second)
	if ok, _ := b.Allow(); !ok {
		t.Fatal("no probe after the capped cool-down")
	}
	b.Success()
	if b.State() != BreakerClosed {
		t.Fatalf("state %s after a good probe, want closed", b.State())
	}
	// Closing resets the cool-down.
	for i := 0; i < 3; i++ {
		b.Failure("503")
	}
	if _, wait := b.Allow(); wait != 10*time.Second {
		t.Fatalf("cool-down after closing = %s, want reset to 10s", wait)
	}
	want := []BreakerState{BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerClosed, BreakerOpen}
	if len(trs) != len(want) {
		t.Fatalf("transitions %v, want %v", trs, want)
	}
	for i, tr := range trs {
		if tr.To != want[i] || tr.Destination != "meta" || tr.Reason == "" {
			t.Errorf("transition %d = %+v, want to %s", i, tr, want[i])
		}
	}
}
