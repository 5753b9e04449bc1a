package destination

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/signalpipe/signalpipe/internal/event"
)

// Delivery is the delivery settings every destination type has. Each
// platform's config embeds it inline (`yaml:",inline"`), so the keys sit
// beside the platform's own, and the deliver stage and routing read them the
// same way whatever the platform.
type Delivery struct {
	// BatchSize is the most events per request.
	BatchSize int `yaml:"batch_size"`
	// Linger is how long deliver waits to fill a batch.
	Linger time.Duration `yaml:"linger"`
	// Timeout bounds one request.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many requests may be in flight at once.
	Concurrency int `yaml:"concurrency"`
	// MaxEventAge is how old an event may be when it is sent.
	MaxEventAge time.Duration `yaml:"max_event_age"`
	// Events lists the canonical event names sent.
	Events []string `yaml:"events"`
	// RequestsPerMinute caps this account's request rate (0: no cap). A
	// platform with a documented per-account limit sets it as the default
	// and refuses more; deliver waits for the limiter before each request,
	// so the backlog waits in Kafka instead of running into 429s.
	RequestsPerMinute int `yaml:"requests_per_minute"`
}

// Limits a platform puts on its Delivery settings.
type DeliveryLimits struct {
	MaxBatch       int
	MaxEventAge    time.Duration // 0: no platform limit
	MaxConcurrency int
	MaxLinger      time.Duration
	// MaxRequestsPerMinute is the platform's documented per-account request
	// limit; 0 when it publishes none.
	MaxRequestsPerMinute int
}

// Fill sets every unset field from def.
func (d *Delivery) Fill(def Delivery) {
	if d.BatchSize == 0 {
		d.BatchSize = def.BatchSize
	}
	if d.Linger == 0 {
		d.Linger = def.Linger
	}
	if d.Timeout == 0 {
		d.Timeout = def.Timeout
	}
	if d.Concurrency == 0 {
		d.Concurrency = def.Concurrency
	}
	if d.MaxEventAge == 0 {
		d.MaxEventAge = def.MaxEventAge
	}
	if len(d.Events) == 0 {
		d.Events = slices.Clone(def.Events)
	}
	if d.RequestsPerMinute == 0 {
		d.RequestsPerMinute = def.RequestsPerMinute
	}
}

// Validate checks the settings against the platform's limits; errors name
// keys relative to the destination's block.
func (d Delivery) Validate(l DeliveryLimits) error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if d.BatchSize < 1 || d.BatchSize > l.MaxBatch {
		add("batch_size", "must be between 1 and %d, got %d", l.MaxBatch, d.BatchSize)
	}
	if d.Linger < 0 || d.Linger > l.MaxLinger {
		add("linger", "must be between 0 and %s, got %s", l.MaxLinger, d.Linger)
	}
	if d.Timeout <= 0 {
		add("timeout", "must be positive, got %s", d.Timeout)
	}
	if d.Concurrency < 1 || d.Concurrency > l.MaxConcurrency {
		add("concurrency", "must be between 1 and %d, got %d", l.MaxConcurrency, d.Concurrency)
	}
	switch {
	case d.MaxEventAge <= 0:
		add("max_event_age", "must be positive, got %s", d.MaxEventAge)
	case l.MaxEventAge > 0 && d.MaxEventAge > l.MaxEventAge:
		add("max_event_age", "must be at most %s (the platform's limit), got %s", l.MaxEventAge, d.MaxEventAge)
	}
	if len(d.Events) == 0 {
		add("events", "must list at least one event name")
	}
	switch {
	case d.RequestsPerMinute < 0:
		add("requests_per_minute", "must not be negative, got %d", d.RequestsPerMinute)
	case l.MaxRequestsPerMinute > 0 && d.RequestsPerMinute > l.MaxRequestsPerMinute:
		add("requests_per_minute", "must be at most %d (the platform's documented limit), got %d", l.MaxRequestsPerMinute, d.RequestsPerMinute)
	}
	return errors.Join(errs...)
}

// Accepts reports whether events with this canonical name are sent.
func (d Delivery) Accepts(eventName string) bool { return slices.Contains(d.Events, eventName) }

// MaxAge is the age limit for one event (Limits.MaxEventAge).
func (d Delivery) MaxAge(*event.Event) time.Duration { return d.MaxEventAge }

// Settings returns the settings themselves, so config can read any
// platform's through one interface.
func (d *Delivery) Settings() *Delivery { return d }

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports whether s can name an environment variable; configs
// name the variables that hold secrets, never the secrets.
func ValidEnvName(s string) bool { return envNameRe.MatchString(s) }
