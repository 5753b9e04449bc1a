// Package kafkax is the franz-go wiring the stages share: client options from
// config (TLS, SASL), topic names, topic creation, and the transactional
// consume→produce loop.
package kafkax

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Config is how signalpipe reaches Kafka.
type Config struct {
	Brokers  []string `yaml:"brokers"`
	ClientID string   `yaml:"client_id"`
	// InstanceID makes this replica's transactional ids unique and stable
	// across restarts, so a restarted replica fences its predecessor at once
	// instead of waiting out the transaction timeout. Default: the host name.
	InstanceID string `yaml:"instance_id"`
	TLS        TLS    `yaml:"tls"`
	SASL       SASL   `yaml:"sasl"`
	// GroupPrefix prefixes consumer group and transactional ids.
	GroupPrefix string `yaml:"group_prefix"`
	// StartFrom is where a new consumer group starts on the input topics:
	// earliest (default; nothing already in the topic is skipped) or latest.
	StartFrom string `yaml:"start_from"`
	// TopicPrefix prefixes every topic signalpipe owns (sp.events, sp.dlq…).
	TopicPrefix string `yaml:"topic_prefix"`
	// CreateTopics creates missing topics at start; without it a missing
	// topic is an error that names it.
	CreateTopics      bool  `yaml:"create_topics"`
	Partitions        int32 `yaml:"partitions"`
	ReplicationFactor int16 `yaml:"replication_factor"`
	// TransactionTimeout bounds one consume→produce transaction; the broker
	// aborts a transaction left open longer (e.g. by a killed process).
	TransactionTimeout time.Duration `yaml:"transaction_timeout"`
	SessionTimeout     time.Duration `yaml:"session_timeout"`
	// MetadataMaxAge is how often metadata is refreshed; tests shorten it.
	MetadataMaxAge time.Duration `yaml:"metadata_max_age"`
	// Compression is the codec of produced batches: snappy (default),
	// lz4, zstd, gzip or none. Even the in-process demo broker keeps
	// snappy: it holds every batch in memory, and uncompressed batches
	// doubled the end-to-end benchmark's CPU in garbage collection.
	Compression string `yaml:"compression"`
}

// TLS configures encryption to the brokers.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL configures authentication. The password is read from the environment
// variable PasswordEnv names, never from the file.
type SASL struct {
	Mechanism   string `yaml:"mechanism"` // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"`
}

// Named defaults.
const (
	DefaultClientID           = "signalpipe"
	DefaultTopicPrefix        = "sp."
	DefaultGroupPrefix        = "signalpipe"
	DefaultPartitions         = 12
	DefaultTransactionTimeout = 60 * time.Second
	DefaultSessionTimeout     = 45 * time.Second
	DefaultMetadataMaxAge     = 5 * time.Minute
	DefaultCompression        = "snappy"
)

// codecs are the values kafka.compression takes.
var codecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// ApplyDefaults fills unset fields.
func (c *Config) ApplyDefaults() {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.InstanceID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "signalpipe"
		}
		c.InstanceID = h
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if c.GroupPrefix == "" {
		c.GroupPrefix = DefaultGroupPrefix
	}
	if c.StartFrom == "" {
		c.StartFrom = "earliest"
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = -1 // the broker's default
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = DefaultTransactionTimeout
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.MetadataMaxAge == 0 {
		c.MetadataMaxAge = DefaultMetadataMaxAge
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
}

// Validate checks the fields without touching the network or files.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Brokers) == 0 {
		add("brokers", "at least one broker address (host:port) is required")
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			add(fmt.Sprintf("brokers[%d]", i), "%q is not host:port", b)
		}
	}
	if c.StartFrom != "earliest" && c.StartFrom != "latest" {
		add("start_from", "must be earliest or latest, not %q", c.StartFrom)
	}
	if c.Partitions < 1 {
		add("partitions", "must be at least 1")
	}
	if _, ok := codecs[c.Compression]; !ok {
		add("compression", "must be none, gzip, snappy, lz4 or zstd, not %q", c.Compression)
	}
	if c.TransactionTimeout < time.Second {
		add("transaction_timeout", "must be at least 1s")
	}
	if c.SessionTimeout < time.Second {
		add("session_timeout", "must be at least 1s")
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" {
			add("sasl.username", "required with sasl.mechanism %s", c.SASL.Mechanism)
		}
		if c.SASL.PasswordEnv == "" {
			add("sasl.password_env", "required with sasl.mechanism %s (the name of an environment variable)", c.SASL.Mechanism)
		}
	default:
		add("sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not %q", c.SASL.Mechanism)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls.cert_file", "tls.cert_file and tls.key_file go together")
	}
	return errors.Join(errs...)
}

// ClientOpts returns the connection options every client of ours shares.
// It reads TLS files and the SASL password from the environment.
func (c Config) ClientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.MetadataMaxAge(c.MetadataMaxAge),
	}
	if codec, ok := codecs[c.Compression]; ok {
		// The compressor is built here rather than by each client from
		// ProducerBatchCompression: franz-go normalizes that option's slice in
		// place, which races when clients built from these options start
		// concurrently (the race detector caught it).
		comp, err := kgo.DefaultCompressor(codec)
		if err != nil {
			return nil, fmt.Errorf("kafka.compression: %w", err)
		}
		if comp == nil {
			comp = uncompressed{}
		}
		opts = append(opts, kgo.WithCompressor(comp))
	}
	if c.TLS.Enabled {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if mech := strings.ToUpper(c.SASL.Mechanism); mech != "" {
		pass := os.Getenv(c.SASL.PasswordEnv)
		if pass == "" {
			return nil, fmt.Errorf("kafka.sasl.password_env: environment variable %s is empty", c.SASL.PasswordEnv)
		}
		switch mech {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: c.SASL.Username, Pass: pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.Username, Pass: pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.Username, Pass: pass}.AsSha512Mechanism()))
		}
	}
	return opts, nil
}

// uncompressed is the compressor for kafka.compression none.
type uncompressed struct{}

func (uncompressed) Compress(_ *bytes.Buffer, src []byte, _ ...kgo.CompressFlag) ([]byte, kgo.CompressionCodecType) {
	return src, kgo.CodecNone
}

func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.TLS.ServerName,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify, //nolint:gosec // an explicit, documented opt-in
	}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: no PEM certificate in %s", c.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Topics names the topics signalpipe owns.
type Topics struct{ Prefix string }

// Events is the canonical event topic.
func (t Topics) Events() string { return t.Prefix + "events" }

// DLQ is the dead-letter topic.
func (t Topics) DLQ() string { return t.Prefix + "dlq" }

// Outcomes is the outcome ledger topic.
func (t Topics) Outcomes() string { return t.Prefix + "outcomes" }

// Out is the per-destination delivery topic.
func (t Topics) Out(dest string) string { return t.Prefix + "out." + dest }

// Retry is a destination's retry topic for one tier, e.g. sp.retry.meta.5m.
func (t Topics) Retry(dest, tier string) string { return t.Prefix + "retry." + dest + "." + tier }

// State is the compacted changelog topic of the named state store.
func (t Topics) State(store string) string { return t.Prefix + "state." + store }

// QualitySnapshots is the quality stage's compacted snapshot topic (one
// partition).
func (t Topics) QualitySnapshots() string { return t.Prefix + "quality.snapshots" }

// QualityLeader is the one-partition topic whose consumer group elects the
// quality stage's leader; it holds no records.
func (t Topics) QualityLeader() string { return t.Prefix + "quality.leader" }

// Topics returns the topic names for this config.
func (c Config) Topics() Topics { return Topics{Prefix: c.TopicPrefix} }
