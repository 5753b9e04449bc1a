package sandbox

import (
	"strings"
	"testing"
	"time"
)

func TestParseFaultFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           string
		wantPlatform string
		want         Fault
		wantErr      string // substring; "" means success
	}{
		{"brief's example", "meta:status=503,rate=0.2,latency=50ms,for=30s", "meta",
			Fault{Status: 503, ErrorRate: 0.2, Latency: 50 * time.Millisecond, For: 30 * time.Second}, ""},
		{"every key", "meta:status=429,retry_after=5s,latency=1s,error_rate=0.5,meta_code=613,requests=10,until=2026-03-01T12:00:30Z", "meta",
			Fault{Status: 429, RetryAfter: 5 * time.Second, Latency: time.Second, ErrorRate: 0.5, MetaCode: 613,
				Requests: 10, Until: testNow.Add(30 * time.Second)}, ""},
		{"aliases and spaces", " meta: status=500 , code=1, retry-after=2 ", "meta",
			Fault{Status: 500, MetaCode: 1, RetryAfter: 2 * time.Second}, ""},
		{"latency only", "meta:latency=1.5s", "meta", Fault{Latency: 1500 * time.Millisecond}, ""},

		{"no platform", "status=503", "", Fault{}, "want platform:key=value"},
		{"unknown platform", "friendster:status=503", "", Fault{}, `unknown platform "friendster"`},
		{"unknown key", "meta:stat=503", "", Fault{}, `unknown key "stat"`},
		{"not key=value", "meta:status", "", Fault{}, `"status" is not key=value`},
		{"status not a number", "meta:status=abc", "", Fault{}, `key "status": bad value "abc"`},
		{"status not an error", "meta:status=302", "", Fault{}, "4xx or 5xx"},
		{"rate above 1", "meta:status=503,rate=2", "", Fault{}, `key "rate": bad value "2"`},
		{"bad latency", "meta:latency=fast", "", Fault{}, `key "latency"`},
		{"negative for", "meta:status=503,for=-5s", "", Fault{}, `key "for"`},
		{"bad until", "meta:status=503,until=tomorrow", "", Fault{}, `key "until"`},
		{"negative requests", "meta:status=503,requests=-1", "", Fault{}, `key "requests"`},
		{"key twice", "meta:status=503,rate=0.1,error_rate=0.2", "", Fault{}, `key "error_rate" given twice`},
		{"nothing to inject", "meta:rate=0.5", "", Fault{}, "needs a status or a latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			platform, f, err := ParseFaultFlag(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFaultFlag(%q) error %v; want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFaultFlag(%q): %v", tt.in, err)
			}
			if platform != tt.wantPlatform || f != tt.want {
				t.Errorf("ParseFaultFlag(%q) = %q, %+v; want %q, %+v", tt.in, platform, f, tt.wantPlatform, tt.want)
			}
		})
	}
}

// TestParsedFaultApplies checks that a parsed flag drives the server: "for"
// is counted from SetFault on the sandbox clock.
func TestParsedFaultApplies(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s, ts := startSandbox(t, Options{Clock: clock.Now})
	platform, f, err := ParseFaultFlag("meta:status=503,for=10s")
	if err != nil {
		t.Fatal(err)
	}
	s.SetFault(platform, f)
	events := validEvents(testNow, "p", 1)
	if got := postEvents(t, ts, testToken, events).status; got != 503 {
		t.Fatalf("status %d; want 503", got)
	}
	clock.Advance(10 * time.Second)
	postEvents(t, ts, testToken, events).success(t)
}
