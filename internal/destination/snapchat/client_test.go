package snapchat

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/destination/platformtest"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

func prepared(t *testing.T, c Config, ids ...string) []destination.Prepared {
	t.Helper()
	return platformtest.Prepared(t, c.Prepare, "testdata/web_purchase.event.json", ids...)
}

// TestSendAgainstSandbox: real requests through the sandbox, which checks
// the token, the hashes, the batch limit and the validate endpoint.
func TestSendAgainstSandbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		token        string
		validateOnly bool
		batch        func(t *testing.T, c Config) []destination.Prepared
		check        func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error)
	}{
		{"accepted", "good", false, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a", "b") },
			func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
				if err != nil || len(res) != 2 || res[0].Status != destination.Delivered || res[1].PlatformRef == "" {
					t.Fatalf("send: %v %+v", err, res)
				}
				evs := sb.Snapchat().Events()
				if len(evs) != 2 || evs[1].EventID != "b" || evs[0].EventName != "PURCHASE" {
					t.Fatalf("sandbox recorded %+v", evs)
				}
				ph, _ := platformtest.Field(evs[0].Raw, "user_data", "ph").([]any)
				if len(ph) != 1 || ph[0] != "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383" {
					t.Errorf("recorded ph %v", ph)
				}
			}},
		{"validate only records nothing", "good", true, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a") },
			func(t *testing.T, sb *sandbox.Server, res []destination.Result, err error) {
				if err != nil || len(res) != 1 || res[0].Status != destination.Delivered || len(sb.Snapchat().Events()) != 0 {
					t.Fatalf("send: %v %+v, recorded %d", err, res, len(sb.Snapchat().Events()))
				}
			}},
		{"wrong token is a credential error", "wrong", false, func(t *testing.T, c Config) []destination.Prepared { return prepared(t, c, "a") },
			func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
				pe, ok := destination.AsPermanent(err)
				if !ok || !pe.Credential || strings.Contains(pe.Error(), "wrong") {
					t.Fatalf("err = %v", err)
				}
			}},
		{"one bad event refuses the batch", "good", false, func(t *testing.T, c Config) []destination.Prepared {
			b := prepared(t, c, "a", "b")
			b[1].Payload = []byte(strings.Replace(string(b[1].Payload), `"client_ip_address":"203.0.113.7"`, `"client_ip_address":"nowhere"`, 1))
			return b
		}, func(t *testing.T, sb *sandbox.Server, _ []destination.Result, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "invalid_parameter" || !strings.Contains(pe.Detail, "data[1]") {
				t.Fatalf("err = %v", err)
			}
			if n := len(sb.Snapchat().Events()); n != 0 {
				t.Errorf("recorded %d", n)
			}
		}},
		{"a batch over the limit is refused", "good", false, func(t *testing.T, c Config) []destination.Prepared {
			ids := make([]string, MaxBatchSize+1)
			for i := range ids {
				ids[i] = "e" + strconv.Itoa(i)
			}
			return prepared(t, c, ids...)
		}, func(t *testing.T, _ *sandbox.Server, _ []destination.Result, err error) {
			if pe, ok := destination.AsPermanent(err); !ok || pe.Reason != "invalid_parameter" || !strings.Contains(pe.Detail, "1 to 2000") {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Options{SnapchatTokens: map[string]string{"1ec32188-754e-4be2-8e55-c949a984a39f": "good"}})
			url, stop, err := sb.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			c := testConfig()
			c.Endpoint, c.ValidateOnly = url, tt.validateOnly
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
	platformtest.TokenNeverLeaks(t, "snapchat-very-secret-token", func(endpoint, token string) (destination.Destination, error) {
		c := testConfig()
		c.Endpoint = endpoint
		return New(c, token, nil)
	})
}
