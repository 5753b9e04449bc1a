// Package destination is the contract between the deliver stage and each ad
// platform. A destination maps canonical events to its platform's payload and
// classifies the platform's answers; it never sleeps, retries, opens a breaker
// or commits an offset — deliver does that for all of them alike.
package destination

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Destination is one ad platform account as the deliver stage sees it.
type Destination interface {
	// Name is the destination's name in topics, outcomes and reports.
	Name() string
	// Limits are the platform's batching and age limits.
	Limits() Limits
	// Prepare maps one event to its platform payload. Its error is always
	// a *PermanentError: the event can never be sent as it is.
	Prepare(ev *event.Event) (Prepared, error)
	// Send makes one request with the prepared events, in order, and
	// returns one Result per event. An error applies to the whole batch
	// and is a *PermanentError or a *RetryableError.
	Send(ctx context.Context, batch []Prepared) ([]Result, error)
	// Close releases the destination's resources; it is idempotent.
	Close() error
}

// Limits are a platform's batching and age rules.
type Limits struct {
	// MaxBatch is the most events one request may carry.
	MaxBatch int
	// MaxEventAge returns how old an event may be when it is sent.
	MaxEventAge func(ev *event.Event) time.Duration
	// AllOrNothing means one bad event fails the whole request, so deliver
	// splits a rejected batch to find it.
	AllOrNothing bool
}

// Prepared is an event mapped to its platform payload.
type Prepared struct {
	Event *event.Event
	// Payload is the platform's encoding of this one event.
	Payload []byte
	// MatchKeys lists the identifier kinds the payload carries (em, ph,
	// fbc, …) for match-key coverage; never values.
	MatchKeys []string
}

// Status is a per-event result of a send.
type Status int

// Per-event results.
const (
	// Delivered: the platform accepted the event (or already had it).
	Delivered Status = iota + 1
	// Rejected: the platform refused the event for good.
	Rejected
	// Retry: try this event again later.
	Retry
)

// Result is what happened to one event of a batch.
type Result struct {
	Status Status
	// Reason is a short code; Detail is the platform's message (no PII).
	Reason     string
	Detail     string
	RetryAfter time.Duration
	// PlatformRef is the platform's trace id for the request.
	PlatformRef string
}

// PermanentError is a failure that will not go away by retrying.
type PermanentError struct {
	// Reason is a short code such as invalid_parameter or auth_error.
	Reason string
	Detail string
	// Credential marks a token or permission problem: it needs a person,
	// and splitting the batch would not help.
	Credential  bool
	PlatformRef string
}

func (e *PermanentError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

// RetryableError is a failure worth retrying, after After when set.
type RetryableError struct {
	Reason string
	Detail string
	After  time.Duration
}

func (e *RetryableError) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

// AsPermanent returns err as a *PermanentError when it is one.
func AsPermanent(err error) (*PermanentError, bool) {
	var p *PermanentError
	ok := errors.As(err, &p)
	return p, ok
}

// AsRetryable returns err as a *RetryableError when it is one.
func AsRetryable(err error) (*RetryableError, bool) {
	var r *RetryableError
	ok := errors.As(err, &r)
	return r, ok
}
