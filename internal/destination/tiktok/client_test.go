package tiktok

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func startSandbox(t *testing.T, o sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	sb := sandbox.New(o)
	url, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sb, url
}

func prepared(t *testing.T, c Config, ids ...string) []destination.Prepared {
	t.Helper()
	return platformtest.Prepared(t, c.Prepare, "testdata/web_purchase.event.json", ids...)
}

// TestSendAgainstSandbox: real requests through the sandbox, which checks
// the token, the hashes and the batch limit.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token string
		batch func(t *testing.T, c Config) []destination.Prepared
		check func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error)
	}{
		{"accepted with test code", "good", func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a", "b") },
			func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
				if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[1].Status != destination.Delivered || res[0].PlatformRef == "" {
					t.Fatalf("send: %v %+v", err, res)
				}
				evs := sb.TikTok().Events()
				if len(evs) != 2 || evs[0].EventID != "a" || evs[0].Account != "C4PIXEL" || !evs[0].Test ||
					platformtest.Field(evs[0].Raw, "user", "phone") != "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8" {
					t.Fatalf("sandbox recorded %+v", evs)
				}
			}},
		{"wrong token is a credential error", "wrong", func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a") },
			func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
				pe, ok := destination.AsPermanent(err)
				if !ok || !pe.Credential || strings.Contains(pe.Error(), "wrong") {
					t.Fatalf("err = %v", err)
				}
			}},
		{"partial failure is per event", "good", func(t *testing.T, c Config) []destination.Prepared {
			b := prepared(t, c, "a", "b", "c")
			b[1].Payload = []byte(strings.Replace(string(b[1].Payload), `"ip":"203.0.113.7"`, `"ip":"not-an-ip"`, 1))
			return b
		}, func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
			if err != nil || len(res) != 3 || res[0].Status != destination.Delivered || res[1].Status != destination.Rejected || res[2].Status != destination.Delivered {
				t.Fatalf("send: %v %+v", err, res)
			}
			if !strings.Contains(res[1].Detail, "user.ip") {
				t.Errorf("rejection detail %q does not name the field", res[1].Detail)
			}
			if n := len(sb.TikTok().Events()); n != 2 {
				t.Errorf("sandbox recorded %d events, want 2", n)
			}
		}},
		{"a batch over the limit is refused by the platform", "good", func(t *testing.T, c Config) []destination.Prepared {
			ids := make([]string, MaxBatchSize+1)
			for i := range ids {
				ids[i] = "e" + strconv.Itoa(i)
			}
			return prepared(t, c, ids...)
		}, func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "invalid_parameter" || !strings.Contains(pe.Detail, "1 to 1000") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, url := startSandbox(t, sandbox.Options{TikTokTokens: map[string]string{"C4PIXEL": "good"}})
			c := testConfig()
			c.Endpoint = url
			c.TestEventCode = "TEST123"
			cl, err := New(c, tt.token, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			res, err := cl.Send(context.Background(), tt.batch(t, c))
			tt.check(t, sb, res, err)
		})
	}
}

// TestSendNeverLeaksToken: a transport failure's error never carries the
// token.
func TestSendNeverLeaksToken(t *testing.T) {
	t.Parallel()
	platformtest.TokenNeverLeaks(t, "tiktok-very-secret-token", func(endpoint, token string) (destination.Destination, error) {
		c := testConfig()
		c.Endpoint = endpoint
		return New(c, token, nil)
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantKey string
	}{
		{"event source", func(c *Config) { c.EventSource = "website" }, "event_source:"},
		{"event source id", func(c *Config) { c.EventSourceID = "" }, "event_source_id:"},
		{"token in file", func(c *Config) { c.AccessTokenEnv = "abc-123 secret" }, "access_token_env:"},
		{"batch over 1000", func(c *Config) { c.BatchSize = 1001 }, "batch_size:"},
		{"age over 7 days", func(c *Config) { c.MaxEventAge = 8 * 24 * time.Hour }, "max_event_age:"},
		{"unmapped event", func(c *Config) { c.Events = []string{"page_view"} }, "events:"},
		{"region", func(c *Config) { c.DefaultPhoneRegion = "usa" }, "default_phone_region:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testConfig()
			tt.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
	if err := testConfig().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}
