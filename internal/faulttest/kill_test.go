package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/demo"
	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/quality"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// buildBinary builds the signalpipe command once for the suite.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "signalpipe")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/signalpipe/signalpipe/cmd/signalpipe")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building signalpipe: %v", err)
	}
	return bin
}

// TestFaultKill9DuringRun kills the pipeline process with SIGKILL at random
// moments while it works through 50,000 records, restarting it each time.
// Afterwards every input record has exactly one terminal outcome per
// destination, and every delivered event is in the sandbox; events sent
// twice (the batch in flight at the kill) carry the same event id, so Meta
// deduplicates them, and the test counts them.
func TestFaultKill9DuringRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 50,000 events")
	}
	t.Parallel()
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	broker, err := kafkax.StartEmbedded("127.0.0.1:0", "", 6, demo.TopicWeb, demo.TopicApp, demo.TopicCRM)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	sb := sandbox.New(sandbox.Options{MetaTokens: map[string]string{"4242": "kill-token"}})
	sbURL, stopSB, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stopSB()

	cfgPath := filepath.Join(t.TempDir(), "signalpipe.yaml")
	cfg := fmt.Sprintf(`
kafka:
  brokers: [%q]
  create_topics: true
  partitions: 6
  instance_id: kill-test
  transaction_timeout: 10s
  session_timeout: 6s
  metadata_max_age: 10s
inputs:
  - {topic: %s, source: web}
  - {topic: %s, source: app}
  - {topic: %s, source: crm}
ingest: {max_record_bytes: 262144}
deliver: {max_retry_elapsed: 5s, shutdown_timeout: 2s}
destinations:
  - {type: meta, meta: {pixel_id: "4242", access_token_env: KILL_TEST_TOKEN, endpoint: %q, default_phone_region: US, linger: 100ms}}
# This test is about crashes, not consent: every event is meant for Meta. The
# state directory survives the kills, so restarts catch up from its checkpoint.
process: {state_dir: %q, consent: {denied: send, unknown: send}}
server: {listen: ""}
log: {level: %s}
`, broker.Addr, demo.TopicWeb, demo.TopicApp, demo.TopicCRM, sbURL, filepath.Join(t.TempDir(), "state"), envStr("KILL_LOG", "warn"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The input: 50,000 records of the demo's mix, produced up front.
	n := envInt("KILL_N", 50000)
	prod, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	gen := demo.NewGenerator(11, time.Now, demo.Topics{Web: demo.TopicWeb, App: demo.TopicApp, CRM: demo.TopicCRM}, demo.DefaultMix, 262144)
	recs := make([]*kgo.Record, n)
	wantIDs := map[string]bool{} // events that must reach Meta
	for i := range recs {
		r := gen.Next()
		recs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
		if r.Kind == demo.KindValid || r.Kind == demo.KindDuplicate || r.Kind == demo.KindSegment {
			wantIDs[eventID(t, r.Value)] = true
		}
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	inputs := make([]string, n)
	for i, r := range recs {
		inputs[i] = fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset)
	}

	ledger := quality.NewLedger(true)
	follower, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(broker.Addr)}, quality.FollowOpts("sp.outcomes", nil)...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Close()
	go quality.Follow(ctx, follower, ledger, nil)

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "--config", cfgPath)
		cmd.Env = append(os.Environ(), "KILL_TEST_TOKEN=kill-token")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for kills < envInt("KILL_TIMES", 4) {
		cmd := start()
		// Let it work for a random while, then kill it without warning.
		pause(ctx, time.Duration(150+rng.IntN(550))*time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
		snap := ledger.Snapshot()
		t.Logf("kill %d: %d terminal outcomes so far, sandbox accepted %d", kills, snap.Terminal, sb.Meta().Stats().Accepted)
	}
	final := start()
	defer func() {
		_ = final.Process.Signal(syscall.SIGTERM)
		_ = final.Wait()
	}()

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var b quality.Balance
	for {
		b = ledger.Check(inputs)
		if b.Balanced {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %d kills the ledger does not balance: %d incomplete (e.g. %v), %d duplicate outcomes, %d unknown",
				kills, len(b.Incomplete), head(b.Incomplete), b.Duplicates, len(b.Unknown))
		case <-tick.C:
		}
	}

	// Every delivered event reached the sandbox; repeats share an event id.
	snap := ledger.Snapshot()
	t.Logf("outcomes by destination %v; reasons %v", snap.ByDestination, snap.Reasons)
	got := map[string]int{}
	for _, e := range sb.Meta().Events() {
		got[e.EventID]++
	}
	for id := range wantIDs {
		if got[id] == 0 {
			t.Errorf("event %s never reached the sandbox", id)
		}
	}
	for id := range got {
		if !wantIDs[id] {
			t.Errorf("the sandbox received %s, which should not have been sent", id)
		}
	}
	st := sb.Meta().Stats()
	if st.Accepted < snap.Outcomes["delivered"] {
		t.Errorf("sandbox accepted %d events but the ledger has %d delivered", st.Accepted, snap.Outcomes["delivered"])
	}
	t.Logf("%d kills: %d records, outcomes %v; sandbox accepted %d events, %d repeats of an event id (resent after a kill, or generated duplicates)",
		kills, n, snap.Outcomes, st.Accepted, st.Duplicates)
	if snap.Outcomes["delivered"] == 0 || snap.Outcomes["invalid"] == 0 {
		t.Errorf("outcomes %v: the run did not exercise delivery and rejection", snap.Outcomes)
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// envInt and envStr let a developer shrink or loosen a run while debugging.
func envInt(k string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(k), &v); err != nil || v <= 0 {
		return def
	}
	return v
}

func envStr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// eventID reads the event id of a generated record in either format.
func eventID(t *testing.T, v []byte) string {
	t.Helper()
	var m struct {
		EventID   string `json:"event_id"`
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		t.Fatalf("generated record is not JSON: %v", err)
	}
	if m.MessageID != "" {
		return m.MessageID
	}
	return m.EventID
}
