package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// clock is the injectable clock the pipeline and the sandbox share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// journeyEnv is a broker and a Meta sandbox that outlive pipeline runs, so
// a test can stop a pipeline and start another on the same Kafka.
type journeyEnv struct {
	t      *testing.T
	broker *kafkax.Embedded
	sb     *sandbox.Server
	url    string
	clock  *clock
	prod   *kgo.Client
}

func newJourneyEnv(t *testing.T, start time.Time) *journeyEnv {
	t.Helper()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 6, demo.TopicWeb, demo.TopicApp, demo.TopicCRM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c := &clock{t: start}
	sb := sandbox.New(sandbox.Options{MetaTokens: map[string]string{"777": "tok"}, Clock: c.Now})
	url, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &journeyEnv{t: t, broker: b, sb: sb, url: url, clock: c, prod: prod}
}

// run starts a pipeline as replica instanceID with its state in stateDir,
// running the given stages (all when none); the returned func stops it and
// waits.
func (e *journeyEnv) run(ctx context.Context, instanceID, stateDir string, stages ...string) func() {
	e.t.Helper()
	cfg := demo.Config(e.broker.Addr, e.url)
	cfg.Destinations[0].Meta.PixelID = "777"
	cfg.Destinations[0].Meta.AccessTokenEnv = "JOURNEY_TOKEN"
	cfg.Kafka.InstanceID = instanceID
	cfg.Kafka.SessionTimeout = 6 * time.Second
	cfg.Process.StateDir = stateDir
	if err := cfg.Validate(); err != nil {
		e.t.Fatal(err)
	}
	pipe, err := app.New(cfg, app.Options{Clock: e.clock.Now, Stages: stages, Getenv: func(k string) string {
		if k == "JOURNEY_TOKEN" {
			return "tok"
		}
		return ""
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pipe.Run(rctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("pipeline: %v", err)
		}
	}
}

// send produces one record and waits until Meta has the event.
func (e *journeyEnv) send(ctx context.Context, topic, id, body string) sandbox.MetaEvent {
	e.t.Helper()
	if err := e.prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(body)}).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
	for {
		for _, ev := range e.sb.Meta().Events() {
			if ev.EventID == id {
				return ev
			}
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("%s never reached Meta", id)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func sha(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

func firstString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			s, _ := x[0].(string)
			return s
		}
	}
	return ""
}

// TestJourneyReachesMetaEnriched is the journey on the real
// pipeline (kfake, six partitions, the Meta sandbox over HTTP, an injected
// clock): an ad click on the web with fbclid and gclid, a sign-up in the app
// an hour later, and a deal won in the CRM three days later that knows only
// the CRM contact and the email. Meta must get the deal with fbc (built
// from the click's capture time) and the hashed email and phone from the
// sign-up. Variants stop the pipeline between the sign-up and the deal and
// go on with an empty state directory: on the same replica (restart after a
// lost disk) and on another (the partitions move, a rebalance), so the
// state must come back from the changelog.
func TestJourneyReachesMetaEnriched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// second replica for the deal: "" keeps the first one running
		instance string
		// a second process replica shares the partitions from the start
		twoReplicas bool
	}{
		{"one run", "", false},
		{"restart with a lost disk", "replica-a", false},
		{"moved to another replica", "replica-b", false},
		{"two replicas share the partitions", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			t0 := time.Now().UTC().Truncate(time.Second).Add(-4 * 24 * time.Hour)
			env := newJourneyEnv(t, t0)
			stop := env.run(ctx, "replica-a", t.TempDir())
			if tt.twoReplicas {
				// Joins while replica-a runs: partitions move between them
				// (revoked ones close and are caught up when they return),
				// and links cross from one replica to the other.
				defer env.run(ctx, "replica-c", t.TempDir(), app.StageProcess)()
			}
			stopped := false
			defer func() {
				if !stopped {
					stop()
				}
			}()

			anon, user, email, phone := "anon-"+t.Name(), "user-42", "Ada.Lovelace@Example.com", "+44 20 7946 0958"
			at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
			env.send(ctx, demo.TopicWeb, "click-1", fmt.Sprintf(`{"event_id":"click-1","event_name":"page_view","event_time":%q,"source":"web",
				"user":{"anonymous_id":%q},
				"context":{"ip":"203.0.113.7","user_agent":"Mozilla/5.0","page_url":"https://shop.example/landing?fbclid=IwAR0-Journey&gclid=Cj0KCQ-Journey",
				"cookies":{"fbp":"fb.1.1700000000000.987654321"}}}`, at(0), anon))
			env.clock.Set(t0.Add(time.Hour))
			signUp := env.send(ctx, demo.TopicApp, "signup-1", fmt.Sprintf(`{"event_id":"signup-1","event_name":"sign_up","event_time":%q,"source":"app",
				"user":{"user_id":%q,"anonymous_id":%q,"email":%q,"phone":%q},
				"context":{"ip":"198.51.100.7","app":{"name":"Shop","version":"1.0","namespace":"com.example.shop"}}}`, at(time.Hour), user, anon, email, phone))
			wantFbc := "fb.1." + strconv.FormatInt(t0.UnixMilli(), 10) + ".IwAR0-Journey"
			if got := signUp.UserData["fbc"]; got != wantFbc {
				t.Errorf("sign-up fbc = %v, want the web click's %s", got, wantFbc)
			}

			if tt.instance != "" {
				stop()
				stopped = true
				stop = env.run(ctx, tt.instance, t.TempDir()) // an empty state directory
				stopped = false
			}
			env.clock.Set(t0.Add(72*time.Hour + time.Minute))
			deal := env.send(ctx, demo.TopicCRM, "deal-1", fmt.Sprintf(`{"event_id":"deal-1","event_name":"closed_deal","event_time":%q,"source":"crm",
				"user":{"external_id":"crm-contact-9","email":"ada.lovelace@example.com"},
				"properties":{"value":4800,"currency":"GBP","order_id":"deal-1"}}`, at(72*time.Hour)))

			ud := deal.UserData
			if ud["fbc"] != wantFbc {
				t.Errorf("deal fbc = %v, want %s", ud["fbc"], wantFbc)
			}
			if ud["fbp"] != "fb.1.1700000000000.987654321" {
				t.Errorf("deal fbp = %v, want the web cookie", ud["fbp"])
			}
			if got := firstString(ud["em"]); got != sha("ada.lovelace@example.com") {
				t.Errorf("deal em = %v, want sha256 of the normalized email", got)
			}
			if got := firstString(ud["ph"]); got != sha("442079460958") {
				t.Errorf("deal ph = %v, want sha256 of the sign-up's phone in E.164 digits", got)
			}
			if got := firstString(ud["external_id"]); got != sha("crm-contact-9") {
				t.Errorf("deal external_id = %v, want sha256 of the CRM contact id", got)
			}
		})
	}
}
