// Package desttest is the conformance suite every destination passes, so
// that all platforms behave alike for the deliver stage: goldens match,
// answers are classified as the platform documents them, a cancelled request
// is retryable and prompt, Close is idempotent, batches larger than the
// platform's limit are split by deliver and each part is accepted by the
// platform's sandbox, and no raw personal data ever reaches an error.
//
// A platform package calls Run from a test:
//
//	func TestConformance(t *testing.T) {
//		desttest.Run(t, desttest.Suite{
//			New: func(t testing.TB, endpoint string) destination.Destination { … },
//			Responses: []desttest.Response{{Name: "ok", Status: 200, Body: `{…}`, Want: desttest.Delivered}, …},
//		})
//	}
package desttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/destination"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// Want is the class a platform answer must be given.
type Want int

// The classes of answers, as the deliver stage acts on them.
const (
	// Delivered: every event's result is Delivered (including answers
	// that mean "already have it").
	Delivered Want = iota + 1
	// Rejected: the events are refused for good, by a per-event Rejected
	// result or a non-credential *destination.PermanentError.
	Rejected
	// Retry: try again later, by a *destination.RetryableError or a
	// per-event Retry result.
	Retry
	// Credential: a *destination.PermanentError with Credential set; a
	// person must fix a token or a permission.
	Credential
)

func (w Want) String() string {
	switch w {
	case Delivered:
		return "delivered"
	case Rejected:
		return "rejected"
	case Retry:
		return "retry"
	case Credential:
		return "credential"
	}
	return fmt.Sprintf("Want(%d)", int(w))
}

// Response is one answer the platform gives, and the class it must get.
type Response struct {
	Name   string
	Status int
	Header http.Header
	Body   string
	Want   Want
	// Reason, when set, is the reason code the result must carry.
	Reason string
	// RetryAfter, when set, is the least delay a Retry must carry (e.g.
	// from a Retry-After header or a platform's documented back-off).
	RetryAfter time.Duration
}

// Suite describes one destination to the checks.
type Suite struct {
	// New opens the destination with every request going to endpoint, a
	// base URL that replaces the platform's (the sandbox, or a test server
	// answering Responses). Tokens may be any non-empty value.
	New func(t testing.TB, endpoint string) destination.Destination
	// Testdata holds pairs <case>.event.json (a canonical event.Event) and
	// <case>.golden.json (its Prepared.Payload). Default "testdata". The
	// first pair is also the event the other checks send.
	Testdata string
	// Responses is the classification table.
	Responses []Response
	// NoSandbox skips the check against internal/sandbox, for destinations
	// whose receiver is the customer's own (none today).
	NoSandbox bool
}

// Run runs every check as a subtest.
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.New == nil {
		t.Fatal("desttest: Suite.New is required")
	}
	if s.Testdata == "" {
		s.Testdata = "testdata"
	}
	cases := loadCases(t, s.Testdata)
	sample := cases[0].event
	t.Run("golden", func(t *testing.T) { checkGolden(t, s, cases) })
	t.Run("classify", func(t *testing.T) { checkClassify(t, s, sample) })
	t.Run("cancel", func(t *testing.T) { checkCancel(t, s, sample) })
	t.Run("close", func(t *testing.T) { checkClose(t, s) })
	t.Run("limits", func(t *testing.T) { checkLimits(t, s, sample) })
	if !s.NoSandbox {
		t.Run("split", func(t *testing.T) { checkSplit(t, s, sample) })
	}
}

type goldenCase struct {
	name   string
	event  *event.Event
	golden []byte
}

func loadCases(t *testing.T, dir string) []goldenCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.event.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("desttest: no *.event.json in %s (%v)", dir, err)
	}
	var out []goldenCase
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".event.json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ev := new(event.Event)
		if err := json.Unmarshal(b, ev); err != nil {
			t.Fatalf("desttest: %s: %v", p, err)
		}
		g, err := os.ReadFile(filepath.Join(dir, name+".golden.json"))
		if err != nil {
			t.Fatalf("desttest: %s has no golden: %v", name, err)
		}
		out = append(out, goldenCase{name: name, event: ev, golden: g})
	}
	return out
}

// fresh copies ev with a recent time and ids made unique by i, so that a
// platform's age check and dedupe accept it.
func fresh(ev *event.Event, i int, now time.Time) *event.Event {
	c := *ev
	c.EventTime = now.Add(-time.Hour).Truncate(time.Second)
	c.ReceivedAt = c.EventTime.Add(time.Second)
	c.EventID = fmt.Sprintf("%s-%d", ev.EventID, i)
	if c.Properties.OrderID != "" {
		c.Properties.OrderID = fmt.Sprintf("%s-%d", ev.Properties.OrderID, i)
	}
	return &c
}

func open(t *testing.T, s Suite, endpoint string) destination.Destination {
	t.Helper()
	d := s.New(t, endpoint)
	if d == nil {
		t.Fatal("desttest: Suite.New returned nil")
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func checkGolden(t *testing.T, s Suite, cases []goldenCase) {
	d := open(t, s, "http://127.0.0.1:9")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := d.Prepare(c.event)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if got, want := canonical(t, p.Payload), canonical(t, c.golden); got != want {
				t.Errorf("payload differs from %s.golden.json:\n got: %s\nwant: %s", c.name, got, want)
			}
			if p.Event != c.event {
				t.Error("Prepared.Event is not the event prepared")
			}
			if pv, ok := d.(destination.Previewer); !ok {
				t.Error("the destination does not implement destination.Previewer")
			} else if req, err := pv.Preview([]destination.Prepared{p}); err != nil || req.Method == "" || len(req.Body) == 0 {
				t.Errorf("Preview = %+v, %v; want a request with a body", req, err)
			}
			for _, k := range p.MatchKeys {
				if k == "" || strings.ContainsAny(k, "@ ") {
					t.Errorf("match key %q is not an identifier kind", k)
				}
			}
		})
	}
}

func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

// class reduces a Send's answer to a Want, with the reason and delay found.
func class(res []destination.Result, err error, n int) (Want, string, time.Duration, error) {
	if err != nil {
		if pe, ok := destination.AsPermanent(err); ok {
			if pe.Credential {
				return Credential, pe.Reason, 0, nil
			}
			return Rejected, pe.Reason, 0, nil
		}
		if re, ok := destination.AsRetryable(err); ok {
			return Retry, re.Reason, re.After, nil
		}
		return 0, "", 0, fmt.Errorf("error %T is neither PermanentError nor RetryableError: %v", err, err)
	}
	if len(res) != n {
		return 0, "", 0, fmt.Errorf("%d results for %d events", len(res), n)
	}
	r := res[0]
	for _, x := range res[1:] {
		if x.Status != r.Status {
			return 0, "", 0, fmt.Errorf("mixed results for one answer: %+v", res)
		}
	}
	switch r.Status {
	case destination.Delivered:
		return Delivered, r.Reason, 0, nil
	case destination.Rejected:
		return Rejected, r.Reason, 0, nil
	case destination.Retry:
		return Retry, r.Reason, r.RetryAfter, nil
	}
	return 0, "", 0, fmt.Errorf("result status %d is not a known status", r.Status)
}

// rawPII lists the personal values of ev that must never appear in errors.
func rawPII(ev *event.Event) []string {
	u := ev.User
	vals := []string{u.Email, u.Phone, u.FirstName, u.LastName, u.DateOfBirth}
	if u.Address != nil {
		vals = append(vals, u.Address.Street)
	}
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); len(v) >= 4 {
			out = append(out, v, strings.ToLower(v))
		}
	}
	return out
}

func checkNoPII(t *testing.T, what string, ev *event.Event, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, v := range rawPII(ev) {
			if strings.Contains(s, v) {
				t.Errorf("%s contains raw personal data (%d chars of the event's user fields): %q", what, len(v), s)
			}
		}
	}
}

func checkClassify(t *testing.T, s Suite, sample *event.Event) {
	if len(s.Responses) == 0 {
		t.Fatal("desttest: Suite.Responses is empty; the classification table is required")
	}
	seen := map[Want]bool{}
	for _, r := range s.Responses {
		seen[r.Want] = true
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				_, _ = bytes.NewBuffer(nil).ReadFrom(req.Body)
				for k, vs := range r.Header {
					for _, v := range vs {
						w.Header().Add(k, v)
					}
				}
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(r.Status)
				_, _ = w.Write([]byte(r.Body))
			}))
			defer srv.Close()
			d := open(t, s, srv.URL)
			ev := fresh(sample, 0, time.Now())
			p, err := d.Prepare(ev)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := d.Send(ctx, []destination.Prepared{p})
			got, reason, after, cerr := class(res, err, 1)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if got != r.Want {
				t.Errorf("HTTP %d %s: classified %s (%v %+v), want %s", r.Status, r.Body, got, err, res, r.Want)
			}
			if r.Reason != "" && reason != r.Reason {
				t.Errorf("reason %q, want %q", reason, r.Reason)
			}
			if r.RetryAfter > 0 && after < r.RetryAfter {
				t.Errorf("retry after %s, want at least %s", after, r.RetryAfter)
			}
			var texts []string
			if err != nil {
				texts = append(texts, err.Error())
			}
			for _, x := range res {
				texts = append(texts, x.Reason, x.Detail)
			}
			checkNoPII(t, "the result", ev, texts...)
		})
	}
	for _, w := range []Want{Delivered, Rejected, Retry, Credential} {
		if !seen[w] {
			t.Errorf("the classification table has no %s case", w)
		}
	}
}

// checkCancel: a request whose context ends while the platform has not
// answered returns promptly, as a retryable error (nothing is known about
// its fate), without raw personal data.
func checkCancel(t *testing.T, s Suite, sample *event.Event) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	d := open(t, s, srv.URL)
	ev := fresh(sample, 0, time.Now())
	p, err := d.Prepare(ev)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := d.Send(ctx, []destination.Prepared{p})
		done <- err
	}()
	select {
	case err := <-done:
		if _, ok := destination.AsRetryable(err); !ok {
			t.Errorf("Send with a cancelled context = %v, want a *destination.RetryableError", err)
		} else {
			checkNoPII(t, "the cancellation error", ev, err.Error())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return within 10s of its context ending")
	}
}

func checkClose(t *testing.T, s Suite) {
	d := s.New(t, "http://127.0.0.1:9")
	if err := d.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v (Close must be idempotent)", err)
	}
}

func checkLimits(t *testing.T, s Suite, sample *event.Event) {
	d := open(t, s, "http://127.0.0.1:9")
	l := d.Limits()
	if l.MaxBatch < 1 {
		t.Errorf("Limits().MaxBatch = %d, want at least 1", l.MaxBatch)
	}
	if l.MaxEventAge == nil {
		t.Fatal("Limits().MaxEventAge is nil")
	}
	if age := l.MaxEventAge(sample); age <= 0 {
		t.Errorf("MaxEventAge = %s, want a positive age", age)
	}
	if d.Name() == "" {
		t.Error("Name() is empty")
	}
}

// checkSplit hands the deliver stage more than two batches' worth of events
// for a sandbox that enforces the platform's limits: every event must be
// delivered, in as many requests as the limit requires.
func checkSplit(t *testing.T, s Suite, sample *event.Event) {
	sb := sandbox.New(sandbox.Options{})
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			requests.Add(1)
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	d := open(t, s, srv.URL)
	max := d.Limits().MaxBatch
	n := 2*max + 1
	if n > 5001 {
		t.Fatalf("MaxBatch %d is larger than any platform allows", max)
	}
	now := time.Now()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		v, err := json.Marshal(fresh(sample, i, now))
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = &kgo.Record{Topic: "sp.out.test", Offset: int64(i), Value: v}
	}
	var produced []*kgo.Record
	out := kafkax.NewOutput(func(r *kgo.Record, promise func(*kgo.Record, error)) {
		produced = append(produced, r)
		promise(r, nil)
	})
	st := deliver.New(d, kafkax.Topics{Prefix: "sp."}, deliver.Config{
		InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxRetryElapsed: 5 * time.Second, Concurrency: 1,
		Breaker: deliver.BreakerConfig{Failures: 1000, OpenFor: time.Second, MaxOpenFor: time.Second},
	}, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Handle(ctx, recs, out); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	delivered := 0
	for _, r := range produced {
		if r.Topic != "sp.outcomes" {
			continue
		}
		var o event.Outcome
		if err := json.Unmarshal(r.Value, &o); err != nil {
			t.Fatal(err)
		}
		if o.Status == event.StatusDelivered {
			delivered++
		} else if delivered+1 < 5 {
			t.Errorf("event %s: %s %s: %s", o.EventID, o.Status, o.Reason, o.Detail)
		}
	}
	if delivered != n {
		t.Errorf("%d of %d events delivered to the sandbox", delivered, n)
	}
	if got := requests.Load(); got < 3 {
		t.Errorf("%d events went in %d requests; with a batch limit of %d there must be at least 3", n, got, max)
	}
}
