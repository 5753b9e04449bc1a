package quality

import (
	"errors"
	"fmt"
	"time"
)

// Config is the quality stage's section of the config file (quality:).
type Config struct {
	// Retention of each aggregate resolution.
	Retention Retention `yaml:"retention"`
	// MaxCells bounds the (source, destination, event name) cells of one
	// window.
	MaxCells int `yaml:"max_cells"`
	// TraceEvents is how many recent event ids the trace index keeps.
	TraceEvents int `yaml:"trace_events"`
	// Alerts are the alert rules and where they post.
	Alerts AlertsConfig `yaml:"alerts"`
	// SnapshotEvery is how often the leading replica snapshots the
	// aggregates to the snapshot topic; a restart re-reads only the
	// outcomes written since the last snapshot.
	SnapshotEvery time.Duration `yaml:"snapshot_every"`
}

// AlertsConfig configures alerting.
type AlertsConfig struct {
	// WebhookURLEnv names an environment variable holding the webhook URL
	// (a Slack incoming webhook, or anything taking its JSON). Empty: alerts
	// show on the report page only.
	WebhookURLEnv string `yaml:"webhook_url_env"`
	// EvaluateEvery is how often the rules are evaluated.
	EvaluateEvery time.Duration `yaml:"evaluate_every"`
	// Timeout bounds one webhook request.
	Timeout time.Duration `yaml:"timeout"`
	Rules   []Rule        `yaml:"rules"`
}

// RuleKind is what a rule watches.
type RuleKind string

// The rule kinds. Threshold means, per kind: volume_drop — the fraction
// the volume fell below the same window a week earlier (0.5 = halved);
// coverage_drop — the fall of a match key's coverage (or, without
// match_key, of the match-quality estimate / 10) below its trailing week, in
// share points (0.2 = 20 points); error_rate — rejected + expired over a
// destination's outcomes; freshness — p95 seconds from event time to
// acceptance; breaker_open — none (fires while a breaker is open);
// dlq_growth — records sent to the DLQ (invalid, rejected, expired) within
// the window.
const (
	RuleVolumeDrop   RuleKind = "volume_drop"
	RuleCoverageDrop RuleKind = "coverage_drop"
	RuleErrorRate    RuleKind = "error_rate"
	RuleFreshness    RuleKind = "freshness"
	RuleBreakerOpen  RuleKind = "breaker_open"
	RuleDLQGrowth    RuleKind = "dlq_growth"
)

// Rule is one alert rule.
type Rule struct {
	Name string   `yaml:"name"`
	Kind RuleKind `yaml:"kind"`
	// Destination and EventName narrow what the rule looks at; empty is
	// all (for breaker_open: every destination, each alerting on its own).
	Destination string `yaml:"destination"`
	EventName   string `yaml:"event_name"`
	// MatchKey is the identifier kind coverage_drop watches (email, phone,
	// external_id, click_id, fbc_fbp, ip_ua, address).
	MatchKey  string  `yaml:"match_key"`
	Threshold float64 `yaml:"threshold"`
	// Window is the span each evaluation looks back over.
	Window time.Duration `yaml:"window"`
	// For is how long the condition must hold before the alert fires, and
	// how long it must be clear before it resolves, so a figure wobbling
	// around the threshold does not flap.
	For time.Duration `yaml:"for"`
	// MinVolume is the least number of events (in the window, or in the
	// baseline for volume_drop) for the rule to judge at all.
	MinVolume int64 `yaml:"min_volume"`
}

// Named defaults of the quality section.
const (
	DefaultTraceEvents   = 50000
	DefaultEvaluateEvery = 30 * time.Second
	DefaultAlertTimeout  = 10 * time.Second
	DefaultRuleWindow    = time.Hour
	DefaultSnapshotEvery = time.Minute
)

// ApplyDefaults fills every unset field with its named default.
func (c *Config) ApplyDefaults() {
	c.Retention.applyDefaults()
	if c.MaxCells == 0 {
		c.MaxCells = DefaultMaxCells
	}
	if c.TraceEvents == 0 {
		c.TraceEvents = DefaultTraceEvents
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.Alerts.EvaluateEvery == 0 {
		c.Alerts.EvaluateEvery = DefaultEvaluateEvery
	}
	if c.Alerts.Timeout == 0 {
		c.Alerts.Timeout = DefaultAlertTimeout
	}
	for i := range c.Alerts.Rules {
		if c.Alerts.Rules[i].Window == 0 {
			c.Alerts.Rules[i].Window = DefaultRuleWindow
		}
	}
}

// Validate names every bad key under quality.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("quality.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Retention.Minutes < time.Hour {
		add("retention.minutes", "must be at least 1h, got %s", c.Retention.Minutes)
	}
	if c.Retention.Hours < 24*time.Hour {
		add("retention.hours", "must be at least 24h, got %s", c.Retention.Hours)
	}
	if c.Retention.Days < 7*24*time.Hour {
		add("retention.days", "must be at least 168h, got %s", c.Retention.Days)
	}
	if c.MaxCells < 10 || c.MaxCells > 1_000_000 {
		add("max_cells", "must be between 10 and 1000000, got %d", c.MaxCells)
	}
	if c.TraceEvents < 0 || c.TraceEvents > 10_000_000 {
		add("trace_events", "must be between 0 and 10000000, got %d", c.TraceEvents)
	}
	if c.SnapshotEvery < time.Second || c.SnapshotEvery > 24*time.Hour {
		add("snapshot_every", "must be between 1s and 24h, got %s", c.SnapshotEvery)
	}
	if c.Alerts.EvaluateEvery < time.Second {
		add("alerts.evaluate_every", "must be at least 1s, got %s", c.Alerts.EvaluateEvery)
	}
	if c.Alerts.Timeout <= 0 {
		add("alerts.timeout", "must be positive")
	}
	names := map[string]bool{}
	for i, r := range c.Alerts.Rules {
		key := fmt.Sprintf("alerts.rules[%d]", i)
		if r.Name == "" {
			add(key+".name", "required")
		}
		if names[r.Name] && r.Name != "" {
			add(key+".name", "%q is used twice", r.Name)
		}
		names[r.Name] = true
		switch r.Kind {
		case RuleVolumeDrop, RuleCoverageDrop, RuleErrorRate, RuleFreshness, RuleBreakerOpen, RuleDLQGrowth:
		default:
			add(key+".kind", "must be volume_drop, coverage_drop, error_rate, freshness, breaker_open or dlq_growth, not %q", r.Kind)
		}
		switch r.Kind {
		case RuleVolumeDrop, RuleErrorRate:
			if r.Threshold <= 0 || r.Threshold > 1 {
				add(key+".threshold", "must be a fraction in (0, 1], got %g", r.Threshold)
			}
		case RuleCoverageDrop:
			if r.Threshold <= 0 || r.Threshold > 1 {
				add(key+".threshold", "must be share points in (0, 1], got %g", r.Threshold)
			}
		case RuleFreshness, RuleDLQGrowth:
			if r.Threshold <= 0 {
				add(key+".threshold", "must be positive, got %g", r.Threshold)
			}
		}
		if r.MatchKey != "" && r.Kind != RuleCoverageDrop {
			add(key+".match_key", "only coverage_drop rules take a match_key")
		}
		if r.MatchKey != "" && keyKindIndex(r.MatchKey) < 0 {
			add(key+".match_key", "must be one of email, phone, external_id, click_id, fbc_fbp, ip_ua, address, not %q", r.MatchKey)
		}
		if r.Window < time.Minute || r.Window > 7*24*time.Hour {
			add(key+".window", "must be between 1m and 168h, got %s", r.Window)
		}
		if r.For < 0 {
			add(key+".for", "must not be negative")
		}
		if r.MinVolume < 0 {
			add(key+".min_volume", "must not be negative")
		}
	}
	return errors.Join(errs...)
}

func keyKindIndex(name string) int {
	for i, n := range KeyKindNames {
		if n == name {
			return i
		}
	}
	return -1
}
