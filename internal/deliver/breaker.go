package deliver

import (
	"log/slog"
	"sync"
	"time"
)

// BreakerState is a circuit breaker's state.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed: requests flow.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen: the platform is failing; nothing is sent and nothing is
	// polled, so the backlog waits in Kafka.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen: one probe request is let through to test recovery.
	BreakerHalfOpen BreakerState = "half_open"
)

// BreakerConfig tunes a Breaker.
type BreakerConfig struct {
	// Failures is how many requests in a row must fail with a retryable
	// error (429, 5xx, timeout) to open the breaker.
	Failures int
	// OpenFor is the first cool-down before a probe; it doubles after each
	// failed probe, up to MaxOpenFor.
	OpenFor    time.Duration
	MaxOpenFor time.Duration
}

// Named defaults.
const (
	DefaultBreakerFailures   = 5
	DefaultBreakerOpenFor    = 10 * time.Second
	DefaultBreakerMaxOpenFor = 5 * time.Minute
)

// BreakerTransition is one change of state, for logs, metrics and the page.
type BreakerTransition struct {
	Destination string
	From, To    BreakerState
	At          time.Time
	Reason      string
}

// Breaker is the circuit breaker of one destination (account). It only
// decides; the stage pauses polling while it is open.
type Breaker struct {
	name  string
	cfg   BreakerConfig
	clock func() time.Time
	log   *slog.Logger
	// OnChange, if set, is told of every transition (called with the lock
	// released).
	OnChange func(BreakerTransition)

	mu       sync.Mutex
	state    BreakerState
	failures int
	openFor  time.Duration
	until    time.Time
	probing  bool
}

// NewBreaker returns a closed breaker.
func NewBreaker(name string, cfg BreakerConfig, clock func() time.Time, log *slog.Logger) *Breaker {
	if cfg.Failures <= 0 {
		cfg.Failures = DefaultBreakerFailures
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = DefaultBreakerOpenFor
	}
	if cfg.MaxOpenFor < cfg.OpenFor {
		cfg.MaxOpenFor = max(DefaultBreakerMaxOpenFor, cfg.OpenFor)
	}
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Breaker{name: name, cfg: cfg, clock: clock, log: log, state: BreakerClosed, openFor: cfg.OpenFor}
}

// State returns the current state.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Ready reports, without using up the probe, whether a request could be
// sent now, and otherwise how long to wait. The stage asks it before
// polling, so an open breaker leaves the backlog in Kafka.
func (b *Breaker) Ready() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if now := b.clock(); now.Before(b.until) {
			return false, b.until.Sub(now)
		}
		return true, 0
	case BreakerHalfOpen:
		if b.probing {
			return false, b.cfg.OpenFor / 10
		}
	}
	return true, 0
}

// Allow reports whether a request may be sent now; when not, it says how
// long until the next probe may go. An open breaker whose cool-down has
// passed turns half-open and lets exactly one probe through.
func (b *Breaker) Allow() (ok bool, wait time.Duration) {
	b.mu.Lock()
	var tr *BreakerTransition
	defer func() {
		b.mu.Unlock()
		b.notify(tr)
	}()
	switch b.state {
	case BreakerClosed:
		return true, 0
	case BreakerOpen:
		now := b.clock()
		if now.Before(b.until) {
			return false, b.until.Sub(now)
		}
		tr = b.move(BreakerHalfOpen, "cool-down over; probing")
		b.probing = true
		return true, 0
	default: // half-open: one probe at a time
		if b.probing {
			return false, b.cfg.OpenFor / 10
		}
		b.probing = true
		return true, 0
	}
}

// Success records a request the platform answered (accepted or refused for
// good: either way it is up).
func (b *Breaker) Success() {
	b.mu.Lock()
	var tr *BreakerTransition
	defer func() {
		b.mu.Unlock()
		b.notify(tr)
	}()
	b.failures = 0
	b.probing = false
	if b.state != BreakerClosed {
		b.openFor = b.cfg.OpenFor
		tr = b.move(BreakerClosed, "platform answered; draining the backlog")
	}
}

// Failure records a request that failed in a way that points at the
// platform (429, 5xx, timeout).
func (b *Breaker) Failure(reason string) {
	b.mu.Lock()
	var tr *BreakerTransition
	defer func() {
		b.mu.Unlock()
		b.notify(tr)
	}()
	b.failures++
	switch b.state {
	case BreakerHalfOpen:
		b.probing = false
		b.openFor = min(b.openFor*2, b.cfg.MaxOpenFor)
		b.until = b.clock().Add(b.openFor)
		tr = b.move(BreakerOpen, "probe failed: "+reason)
	case BreakerClosed:
		if b.failures >= b.cfg.Failures {
			b.until = b.clock().Add(b.openFor)
			tr = b.move(BreakerOpen, reason)
		}
	}
}

// move changes state; the caller holds the lock and notifies after.
func (b *Breaker) move(to BreakerState, reason string) *BreakerTransition {
	tr := &BreakerTransition{Destination: b.name, From: b.state, To: to, At: b.clock(), Reason: reason}
	b.state = to
	return tr
}

func (b *Breaker) notify(tr *BreakerTransition) {
	if tr == nil {
		return
	}
	b.log.Warn("circuit breaker "+string(tr.To), "destination", tr.Destination, "from", tr.From, "reason", tr.Reason)
	if b.OnChange != nil {
		b.OnChange(*tr)
	}
}
