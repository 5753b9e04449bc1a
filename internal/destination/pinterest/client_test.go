package pinterest

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

func prepared(t *testing.T, c Config, ids ...string) []destination.Prepared {
	t.Helper()
	return platformtest.Prepared(t, c.Prepare, "testdata/web_purchase.event.json", ids...)
}

// TestSendAgainstSandbox: real requests through the sandbox, which checks
// the Bearer token, the hashes, the age and the batch limit.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token string
		test  bool
		batch func(t *testing.T, c Config) []destination.Prepared
		check func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error)
	}{
		{"accepted", "good", false, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a", "b") },
			func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
				if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[1].Status != destination.Delivered {
					t.Fatalf("send: %v %+v", err, res)
				}
				evs := sb.Pinterest().Events()
				if len(evs) != 2 || evs[1].EventID != "b" || evs[0].Account != "549755885175" || platformtest.Field(evs[0].Raw, "custom_data", "value") != "142.52" {
					t.Fatalf("sandbox recorded %+v", evs)
				}
			}},
		{"test mode records nothing", "good", true, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a") },
			func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
				if err != nil || len(res) != 1 || res[0].Status != destination.Delivered || len(sb.Pinterest().Events()) != 0 {
					t.Fatalf("send: %v %+v, recorded %d", err, res, len(sb.Pinterest().Events()))
				}
			}},
		{"wrong token is a credential error", "wrong", false, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a") },
			func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
				pe, ok := destination.AsPermanent(err)
				if !ok || !pe.Credential || strings.Contains(pe.Error(), "wrong") {
					t.Fatalf("err = %v", err)
				}
			}},
		{"too old event rejected alone", "good", false, func(t *testing.T, c Config) []destination.Prepared {
			b := prepared(t, c, "a", "b")
			old := platformtest.LoadEvent(t, "testdata/web_purchase.event.json")
			old.EventTime = time.Now().Add(-8 * 24 * time.Hour)
			p, err := c.Prepare(old)
			if err != nil {
				t.Fatal(err)
			}
			return []destination.Prepared{b[0], p, b[1]}
		}, func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
			if err != nil || len(res) != 3 || res[0].Status != destination.Delivered || res[1].Status != destination.Rejected || res[2].Status != destination.Delivered {
				t.Fatalf("send: %v %+v", err, res)
			}
			if !strings.Contains(res[1].Detail, "in the past") {
				t.Errorf("detail %q", res[1].Detail)
			}
			if n := len(sb.Pinterest().Events()); n != 2 {
				t.Errorf("recorded %d, want 2", n)
			}
		}},
		{"a batch over the limit is refused", "good", false, func(t *testing.T, c Config) []destination.Prepared {
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
			sb := sandbox.New(sandbox.Options{PinterestTokens: map[string]string{"549755885175": "good"}})
			url, stop, err := sb.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			c := testConfig()
			c.Endpoint, c.Test = url, tt.test
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
	platformtest.TokenNeverLeaks(t, "pinterest-very-secret-token", func(endpoint, token string) (destination.Destination, error) {
		c := testConfig()
		c.Endpoint = endpoint
		return New(c, token, nil)
	})
}
