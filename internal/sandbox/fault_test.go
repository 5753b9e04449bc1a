package sandbox

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestFaultStatusAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		fault          Fault
		wantStatus     int
		wantCode       int
		wantSubcode    int
		wantTransient  bool
		wantRetryAfter string
	}{
		{"503 with Retry-After", Fault{Status: 503, RetryAfter: 5 * time.Second}, 503, 2, 0, true, "5"},
		{"500 is an unknown error", Fault{Status: 500}, 500, 1, 0, true, ""},
		{"429 is throttling", Fault{Status: 429, RetryAfter: 1500 * time.Millisecond}, 429, 613, 1487742, true, "2"},
		{"explicit service code", Fault{Status: 502, MetaCode: 2}, 502, 2, 0, true, ""},
		{"explicit user throttling", Fault{Status: 400, MetaCode: 17}, 400, 17, 2446079, true, ""},
		{"token failure", Fault{Status: 400, MetaCode: 190}, 400, 190, 0, false, ""},
		{"401 defaults to token failure", Fault{Status: 401}, 401, 190, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := startSandbox(t, Options{})
			s.SetFault("meta", tt.fault)

			resp := postEvents(t, ts, testToken, validEvents(testNow, "f", 2))

			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, body %s; want %d", resp.status, resp.body, tt.wantStatus)
			}
			e := resp.graphErr(t)
			if e.Code != tt.wantCode || e.ErrorSubcode != tt.wantSubcode || e.IsTransient != tt.wantTransient {
				t.Errorf("error %+v; want code %d subcode %d transient %v", e, tt.wantCode, tt.wantSubcode, tt.wantTransient)
			}
			if got := resp.header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After %q; want %q", got, tt.wantRetryAfter)
			}
			st := s.Meta().Stats()
			if st.Requests != 1 || st.Faulted != 1 || st.Accepted != 0 || st.Rejected != 0 || len(s.Meta().Events()) != 0 {
				t.Errorf("stats %+v; want the request counted as faulted and nothing recorded", st)
			}
		})
	}
}

func TestFaultRequestsCountExpires(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	s.SetFault("meta", Fault{Status: 503, Requests: 2})
	events := validEvents(testNow, "n", 1)

	var got []int
	for range 4 {
		got = append(got, postEvents(t, ts, testToken, events).status)
	}
	if want := []int{503, 503, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v; want %v", got, want)
	}
	if st := s.Meta().Stats(); st.Faulted != 2 || st.Accepted != 2 {
		t.Errorf("stats %+v; want 2 faulted, 2 accepted", st)
	}
}

func TestFaultUntilFollowsSandboxClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(now time.Time) Fault
	}{
		{"Until", func(now time.Time) Fault { return Fault{Status: 503, Until: now.Add(30 * time.Second)} }},
		{"For", func(time.Time) Fault { return Fault{Status: 503, For: 30 * time.Second} }},
		{"For shorter than Until", func(now time.Time) Fault {
			return Fault{Status: 503, For: 30 * time.Second, Until: now.Add(time.Hour)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s, ts := startSandbox(t, Options{Clock: clock.Now})
			s.SetFault("meta", tt.fault(clock.Now()))
			events := validEvents(testNow, "u", 1)

			if got := postEvents(t, ts, testToken, events).status; got != 503 {
				t.Fatalf("status %d before the end; want 503", got)
			}
			clock.Advance(29 * time.Second)
			if got := postEvents(t, ts, testToken, events).status; got != 503 {
				t.Fatalf("status %d 1 s before the end; want 503", got)
			}
			clock.Advance(time.Second)
			if got := postEvents(t, ts, testToken, events).status; got != 200 {
				t.Fatalf("status %d at the end; want 200", got)
			}
		})
	}
}

// faultPattern sends n requests and returns which were faulted.
func faultPattern(t *testing.T, f Fault, n int) []bool {
	t.Helper()
	s, ts := startSandbox(t, Options{})
	s.SetFault("meta", f)
	body := mustJSON(map[string]any{"data": validEvents(testNow, "r", 1)})
	url := eventsURL(ts, testPixel, testToken)
	out := make([]bool, n)
	for i := range out {
		resp, err := ts.Client().Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		out[i] = resp.StatusCode == f.Status
	}
	if st := s.Meta().Stats(); st.Faulted != int64(count(out)) || st.Accepted != int64(n-count(out)) {
		t.Errorf("stats %+v disagree with %d faulted answers", st, count(out))
	}
	return out
}

func TestFaultErrorRate(t *testing.T) {
	t.Parallel()
	const n = 1000
	f := Fault{Status: 503, ErrorRate: 0.3}
	first := faultPattern(t, f, n)
	if got := count(first); got < 250 || got > 350 {
		t.Errorf("%d of %d requests faulted; want about 30%%", got, n)
	}
	// The source is seeded by SetFault, so a second server repeats the pattern.
	if second := faultPattern(t, f, n); !slices.Equal(first, second) {
		t.Error("the faulted requests differ between two runs with the same fault")
	}
}

func TestFaultErrorRateWithRequests(t *testing.T) {
	t.Parallel()
	// Requests bounds the requests that draw, not the ones that fail.
	got := faultPattern(t, Fault{Status: 500, ErrorRate: 0.5, Requests: 40}, 100)
	if c := count(got[40:]); c != 0 {
		t.Errorf("%d requests faulted after the first 40", c)
	}
	if c := count(got[:40]); c == 0 || c == 40 {
		t.Errorf("%d of the first 40 faulted; want some but not all at rate 0.5", c)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()

	t.Run("delays a processed request", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		const latency = 50 * time.Millisecond
		s.SetFault("meta", Fault{Latency: latency})
		start := time.Now()
		if n := postEvents(t, ts, testToken, validEvents(testNow, "l", 3)).success(t); n != 3 {
			t.Fatalf("events_received %d; want 3", n)
		}
		if took := time.Since(start); took < latency {
			t.Errorf("answered after %s; want at least %s", took, latency)
		}
		if st := s.Meta().Stats(); st.Accepted != 3 || st.Faulted != 0 {
			t.Errorf("stats %+v; want the delayed request processed, not faulted", st)
		}
	})

	t.Run("delays an injected error", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		const latency = 50 * time.Millisecond
		s.SetFault("meta", Fault{Status: 504, Latency: latency})
		start := time.Now()
		if got := postEvents(t, ts, testToken, validEvents(testNow, "l", 1)).status; got != 504 {
			t.Fatalf("status %d; want 504", got)
		}
		if took := time.Since(start); took < latency {
			t.Errorf("answered after %s; want at least %s", took, latency)
		}
	})

	t.Run("a client that gives up is released", func(t *testing.T) {
		t.Parallel()
		s, ts := startSandbox(t, Options{})
		s.SetFault("meta", Fault{Status: 503, Latency: time.Hour})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		body := mustJSON(map[string]any{"data": validEvents(testNow, "c", 1)})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, eventsURL(ts, testPixel, testToken), bytes.NewReader(body))
		start := time.Now()
		_, err := ts.Client().Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v; want the client's deadline", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("client returned after %s; want promptly", took)
		}
		// The handler notices too, instead of holding the connection for an hour.
		eventually(t, 5*time.Second, "counted as faulted", func() bool { return s.Meta().Stats().Faulted == 1 })
	})
}

func TestClearFaults(t *testing.T) {
	t.Parallel()
	s, ts := startSandbox(t, Options{})
	events := validEvents(testNow, "c", 1)
	s.SetFault("meta", Fault{Status: 503})
	if got := postEvents(t, ts, testToken, events).status; got != 503 {
		t.Fatalf("status %d; want 503", got)
	}
	s.ClearFaults()
	postEvents(t, ts, testToken, events).success(t)

	s.SetFault("meta", Fault{Status: 503})
	s.SetFault("meta", Fault{}) // a fault that does nothing clears
	postEvents(t, ts, testToken, events).success(t)

	s.SetFault("friendster", Fault{Status: 503}) // unknown platforms are ignored
	postEvents(t, ts, testToken, events).success(t)
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
