package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestApplyDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.ApplyDefaults()
	if c.Name != "webhook" || c.BatchSize != 100 || c.Linger != 250*time.Millisecond || c.Timeout != 10*time.Second ||
		c.Concurrency != 2 || c.MaxEventAge != 30*24*time.Hour || len(c.Events) != 9 || c.Accepts("identify") || !c.Accepts("purchase") {
		t.Errorf("defaults: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{"defaults are valid", func(*Config) {}, nil},
		{"identify may be opted in", func(c *Config) { c.Events = append(c.Events, "identify") }, nil},
		{"headers", func(c *Config) { c.Headers = map[string]string{"X-Tenant": "acme"} }, nil},
		{"ftp url", func(c *Config) { c.URL = "ftp://x.example" }, []string{"url: must be an http(s) URL"}},
		{"url without host", func(c *Config) { c.URL = "https://" }, []string{"url: must be an http(s) URL"}},
		{"url error hides credentials", func(c *Config) { c.URL = "ftp://user:hunter22@x.example/?token=abcdef" }, []string{"url: must be an http(s) URL"}},
		{"no secret_env", func(c *Config) { c.SecretEnv = "" }, []string{"secret_env: required"}},
		{"secret in secret_env", func(c *Config) { c.SecretEnv = "s3cr3t value" }, []string{"secret_env: \"s3cr3t value\" is not an environment variable name"}},
		{"batch_size", func(c *Config) { c.BatchSize = 1001 }, []string{"batch_size: must be between 1 and 1000, got 1001"}},
		{"concurrency", func(c *Config) { c.Concurrency = 65 }, []string{"concurrency: must be between 1 and 64"}},
		{"linger", func(c *Config) { c.Linger = -time.Second }, []string{"linger:"}},
		{"timeout", func(c *Config) { c.Timeout = -1 }, []string{"timeout: must be positive"}},
		{"max_event_age", func(c *Config) { c.MaxEventAge = -1 }, []string{"max_event_age: must be positive"}},
		{"unknown event", func(c *Config) { c.Events = []string{"Purchase"} }, []string{`events: "Purchase" is not a canonical event name`}},
		{"reserved header", func(c *Config) { c.Headers = map[string]string{"x-signalpipe-signature": "x"} }, []string{"headers.x-signalpipe-signature: is set by signalpipe"}},
		{"credential header", func(c *Config) { c.Headers = map[string]string{"Authorization": "Bearer x"} }, []string{"headers.Authorization: would put a credential"}},
		{"bad header name and value", func(c *Config) { c.Headers = map[string]string{"Bad Name": "x", "X-Ok": "a\r\nb"} }, []string{"headers.Bad Name: is not a valid header name", "headers.X-Ok: value must not contain"}},
		{"several at once", func(c *Config) { c.URL, c.BatchSize = "", 0 }, []string{"url:", "batch_size:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tt.want)
			}
			if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != len(tt.want) {
				t.Errorf("got %d errors (%v), want %d", n, err, len(tt.want))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter22") || strings.Contains(err.Error(), "abcdef") {
				t.Errorf("error leaks URL credentials: %v", err)
			}
		})
	}
}
