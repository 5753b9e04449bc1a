// Package config is signalpipe's typed configuration: strict YAML decoding
// (unknown keys are errors), named defaults, and Validate, which names the
// offending key and does no I/O.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/quality"
)

// Config is the whole job's configuration.
type Config struct {
	Kafka        kafkax.Config `yaml:"kafka"`
	Inputs       []Input       `yaml:"inputs"`
	Ingest       Ingest        `yaml:"ingest"`
	Deliver      Deliver       `yaml:"deliver"`
	Destinations []Destination `yaml:"destinations"`
	Server       Server        `yaml:"server"`
	Log          Log           `yaml:"log"`
	// Quality configures the reports' aggregates, the trace index and the
	// alert rules.
	Quality quality.Config `yaml:"quality"`

	// Process configures the process stage (state, dedupe, consent, routes).
	Process Process `yaml:"process"`
}

// Input is one Kafka topic that producers write events to.
type Input struct {
	Topic string `yaml:"topic"`
	// Source labels records from this topic in reports, also those that
	// cannot be decoded (web, app or crm).
	Source event.Source `yaml:"source"`
}

// Ingest configures decoding and validation.
type Ingest struct {
	// MaxRecordBytes bounds one input record; larger ones are dead-lettered.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// MaxFutureSkew is how far in the future an event time may lie.
	MaxFutureSkew time.Duration `yaml:"max_future_skew"`
	// PollRecords bounds the records handled in one transaction.
	PollRecords int `yaml:"poll_records"`
}

// Deliver configures the delivery stage shared by every destination.
type Deliver struct {
	// InitialBackoff and MaxBackoff bound the in-place retry of a batch that
	// failed with a retryable error.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// MaxRetryElapsed is how long one transaction retries in place before it
	// is aborted (nothing committed) and the records are polled again. It
	// must stay below kafka.transaction_timeout.
	MaxRetryElapsed time.Duration `yaml:"max_retry_elapsed"`
	// ShutdownTimeout bounds how long in-flight batches may finish on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Breaker configures each destination's circuit breaker.
	Breaker Breaker `yaml:"breaker"`
	// RetryTiers are the delays of the retry queue, shortest first: an
	// event the platform asks for again later waits in topic
	// sp.retry.<dest>.<tier> until due, then in the next tier, and is
	// rejected past the last one. Default 30s, 5m, 1h, 6h.
	RetryTiers []time.Duration `yaml:"retry_tiers"`
	// Degraded configures the degraded path while a platform is down.
	Degraded Degraded `yaml:"degraded"`
}

// Degraded configures the degraded path: while a destination's breaker is
// open, events within Margin of the platform's age limit are written to its
// offline-upload file in Dir/<destination>/ instead of expiring.
type Degraded struct {
	// Dir receives the files; "off" turns the path off. Default "exports".
	Dir string `yaml:"dir"`
	// Margin before the platform's age limit; default 24h.
	Margin time.Duration `yaml:"margin"`
	// Every is how often a down destination's backlog is looked at;
	// default 1m.
	Every time.Duration `yaml:"every"`
}

// DegradedDir is the export directory, or "" when the path is off.
func (d Degraded) DegradedDir() string {
	if d.Dir == "off" {
		return ""
	}
	return d.Dir
}

// Breaker configures the circuit breaker every destination has.
type Breaker struct {
	// Failures in a row (429, 5xx, timeouts) that open it.
	Failures int `yaml:"failures"`
	// OpenFor is the first cool-down before a probe; it doubles after each
	// failed probe up to MaxOpenFor.
	OpenFor    time.Duration `yaml:"open_for"`
	MaxOpenFor time.Duration `yaml:"max_open_for"`
}

// Server configures the status/report HTTP server.
type Server struct {
	// Listen is the address of the status page and API; "" turns it off.
	Listen string `yaml:"listen"`
	// TokenEnv names an environment variable holding a bearer token that
	// data endpoints then require.
	TokenEnv string `yaml:"token_env"`
}

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Named defaults.
const (
	DefaultMaxRecordBytes  = 1 << 20
	DefaultMaxFutureSkew   = 10 * time.Minute
	DefaultPollRecords     = 2000
	DefaultInitialBackoff  = 200 * time.Millisecond
	DefaultMaxBackoff      = 10 * time.Second
	DefaultMaxRetryElapsed = 30 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
	DefaultListen          = "127.0.0.1:8080"
)

// ApplyDefaults fills every unset field with its named default.
func (c *Config) ApplyDefaults() {
	c.Kafka.ApplyDefaults()
	if c.Ingest.MaxRecordBytes == 0 {
		c.Ingest.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.Ingest.MaxFutureSkew == 0 {
		c.Ingest.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if c.Ingest.PollRecords == 0 {
		c.Ingest.PollRecords = DefaultPollRecords
	}
	if c.Deliver.InitialBackoff == 0 {
		c.Deliver.InitialBackoff = DefaultInitialBackoff
	}
	if c.Deliver.MaxBackoff == 0 {
		c.Deliver.MaxBackoff = DefaultMaxBackoff
	}
	if c.Deliver.MaxRetryElapsed == 0 {
		c.Deliver.MaxRetryElapsed = DefaultMaxRetryElapsed
	}
	if c.Deliver.ShutdownTimeout == 0 {
		c.Deliver.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Deliver.Breaker.Failures == 0 {
		c.Deliver.Breaker.Failures = 5
	}
	if c.Deliver.Breaker.OpenFor == 0 {
		c.Deliver.Breaker.OpenFor = 10 * time.Second
	}
	if c.Deliver.Breaker.MaxOpenFor == 0 {
		c.Deliver.Breaker.MaxOpenFor = 5 * time.Minute
	}
	if c.Deliver.Degraded.Dir == "" {
		c.Deliver.Degraded.Dir = "exports"
	}
	if c.Deliver.Degraded.Margin == 0 {
		c.Deliver.Degraded.Margin = 24 * time.Hour
	}
	if c.Deliver.Degraded.Every == 0 {
		c.Deliver.Degraded.Every = time.Minute
	}
	if len(c.Deliver.RetryTiers) == 0 {
		c.Deliver.RetryTiers = []time.Duration{30 * time.Second, 5 * time.Minute, time.Hour, 6 * time.Hour}
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	for i := range c.Destinations {
		c.Destinations[i].applyDefaults()
	}
	c.Quality.ApplyDefaults()
	c.Process.applyDefaults()
}

// Load reads, strictly decodes, defaults and validates the file at path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("opening config: %w", err)
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Decode strictly decodes YAML (unknown keys are errors), applies defaults
// and validates.
func Decode(r io.Reader) (Config, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("decoding config: %s", nameKeys(raw, strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every field and returns all problems, each naming its key.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Inputs) == 0 {
		add("inputs", "at least one input topic is required")
	}
	seen := map[string]bool{}
	for i, in := range c.Inputs {
		key := fmt.Sprintf("inputs[%d]", i)
		if in.Topic == "" {
			add(key+".topic", "required")
		}
		if seen[in.Topic] {
			add(key+".topic", "%q is listed twice", in.Topic)
		}
		seen[in.Topic] = true
		if in.Source != "" && !in.Source.Valid() {
			add(key+".source", "must be web, app or crm, not %q", in.Source)
		}
		if strings.HasPrefix(in.Topic, c.Kafka.TopicPrefix) && c.Kafka.TopicPrefix != "" {
			add(key+".topic", "%q uses signalpipe's own prefix %q", in.Topic, c.Kafka.TopicPrefix)
		}
	}
	if c.Ingest.MaxRecordBytes < 1024 || c.Ingest.MaxRecordBytes > 64<<20 {
		add("ingest.max_record_bytes", "must be between 1024 and 67108864, got %d", c.Ingest.MaxRecordBytes)
	}
	if c.Ingest.MaxFutureSkew < 0 {
		add("ingest.max_future_skew", "must not be negative")
	}
	if c.Ingest.PollRecords < 1 || c.Ingest.PollRecords > 100000 {
		add("ingest.poll_records", "must be between 1 and 100000, got %d", c.Ingest.PollRecords)
	}
	if c.Deliver.InitialBackoff <= 0 || c.Deliver.MaxBackoff < c.Deliver.InitialBackoff {
		add("deliver.max_backoff", "must be at least deliver.initial_backoff (%s)", c.Deliver.InitialBackoff)
	}
	if c.Deliver.MaxRetryElapsed <= 0 || c.Deliver.MaxRetryElapsed >= c.Kafka.TransactionTimeout {
		add("deliver.max_retry_elapsed", "must be positive and below kafka.transaction_timeout (%s), got %s", c.Kafka.TransactionTimeout, c.Deliver.MaxRetryElapsed)
	}
	if c.Deliver.ShutdownTimeout <= 0 {
		add("deliver.shutdown_timeout", "must be positive")
	}
	if c.Deliver.Breaker.Failures < 1 {
		add("deliver.breaker.failures", "must be at least 1")
	}
	for i, d := range c.Deliver.RetryTiers {
		switch {
		case d < time.Second || d > 7*24*time.Hour:
			add(fmt.Sprintf("deliver.retry_tiers[%d]", i), "%s must be between 1s and 168h", d)
		case i > 0 && d <= c.Deliver.RetryTiers[i-1]:
			add(fmt.Sprintf("deliver.retry_tiers[%d]", i), "%s must be longer than the tier before it (%s)", d, c.Deliver.RetryTiers[i-1])
		case d%time.Second != 0:
			add(fmt.Sprintf("deliver.retry_tiers[%d]", i), "%s must be whole seconds (it becomes part of a topic name)", d)
		}
	}
	if c.Deliver.Degraded.Margin < 0 {
		add("deliver.degraded.margin", "must not be negative, got %s", c.Deliver.Degraded.Margin)
	}
	if c.Deliver.Degraded.Every < 100*time.Millisecond {
		add("deliver.degraded.every", "must be at least 100ms, got %s", c.Deliver.Degraded.Every)
	}
	if len(c.Deliver.RetryTiers) > 8 {
		add("deliver.retry_tiers", "at most 8 tiers, got %d", len(c.Deliver.RetryTiers))
	}
	if c.Deliver.Breaker.OpenFor <= 0 || c.Deliver.Breaker.MaxOpenFor < c.Deliver.Breaker.OpenFor {
		add("deliver.breaker.max_open_for", "must be at least deliver.breaker.open_for (%s)", c.Deliver.Breaker.OpenFor)
	}
	if len(c.Destinations) == 0 {
		add("destinations", "at least one destination is required, e.g. - {type: meta, meta: {pixel_id: …, access_token_env: …}}")
	}
	names := map[string]bool{}
	for i, d := range c.Destinations {
		key := fmt.Sprintf("destinations[%d]", i)
		if err := d.validate(key); err != nil {
			errs = append(errs, err)
		}
		if names[d.Name] {
			add(key+".name", "%q is used twice; give each destination its own name", d.Name)
		}
		names[d.Name] = true
	}
	if err := c.Quality.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, r := range c.Quality.Alerts.Rules {
		if r.Destination != "" && !names[r.Destination] {
			add(fmt.Sprintf("quality.alerts.rules[%d].destination", i), "%q is not a configured destination", r.Destination)
		}
	}
	if err := c.Process.validate(names); err != nil {
		errs = append(errs, err)
	}
	if w, bounded, err := c.Process.StateWaitBound(); err == nil && bounded && w > c.Kafka.TransactionTimeout/2 {
		add("process.state_wait", "%s is more than half of kafka.transaction_timeout (%s); the batch waits inside its transaction", w, c.Kafka.TransactionTimeout)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be text or json, not %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

// SourceOf returns the configured source label of an input topic.
func (c Config) SourceOf(topic string) event.Source {
	for _, in := range c.Inputs {
		if in.Topic == topic {
			return in.Source
		}
	}
	return ""
}

// InputTopics lists the input topic names.
func (c Config) InputTopics() []string {
	out := make([]string, 0, len(c.Inputs))
	for _, in := range c.Inputs {
		out = append(out, in.Topic)
	}
	return out
}

// prefixErr prefixes every line of a joined error with a key path.
func prefixErr(prefix string, err error) error {
	var out []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fmt.Errorf("%s%w", prefix, e))
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s%w", prefix, err)
}

var lineRe = regexp.MustCompile(`line (\d+): `)

// nameKeys adds the key path to each "line N: …" of a YAML error, so a
// message about a bad value says which key holds it.
func nameKeys(raw []byte, msg string) string {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil {
		return msg
	}
	paths := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if _, ok := paths[v.Line]; !ok || v.Kind == yaml.ScalarNode {
					paths[v.Line] = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(&root, "")
	return lineRe.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(lineRe.FindStringSubmatch(m)[1])
		if p, ok := paths[n]; ok {
			return m[:len(m)-2] + " (" + p + "): "
		}
		return m
	})
}
