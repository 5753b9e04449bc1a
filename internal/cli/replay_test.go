package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/deliver"
	"github.com/signalpipe/signalpipe/internal/event"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// TestReplay: dead letters of one destination's deliver stage go back to
// its sp.out topic, filtered by reason; a dry run counts and moves nothing;
// other destinations' and ingest's dead letters stay where they are.
func TestReplay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 2, "sp.dlq", "sp.out.meta", "sp.out.hook")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "signalpipe.yaml")
	cfgText := fmt.Sprintf(`
kafka: {brokers: [%q], instance_id: replay-test}
inputs: [{topic: events.web, source: web}]
destinations:
  - {type: meta, meta: {pixel_id: "1", access_token_env: REPLAY_TEST_TOKEN}}
  - {name: hook, type: webhook, webhook: {url: "https://example.com/h", secret_env: REPLAY_TEST_SECRET}}
server: {listen: ""}
`, b.Addr)
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dead := func(id, stage, dest, reason string) *kgo.Record {
		v, _ := json.Marshal(event.Event{EventID: id, EventName: "purchase"})
		return kafkax.DLQRecord("sp.dlq", []byte(id), v, kafkax.DeadLetter{Stage: stage, Reason: reason, Destination: dest, Origin: event.Origin{Topic: "events.web", Offset: 1}})
	}
	if err := cl.ProduceSync(ctx,
		dead("a", "deliver", "meta", "too_old"),
		dead("b", "deliver", "meta", "too_old"),
		dead("c", "deliver", "meta", "invalid_parameter"),
		dead("d", "deliver", "hook", "too_old"),
		dead("e", "ingest", "", "malformed_json"),
	).FirstErr(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, "", "replay", "--config", path, "--from", "dlq", "--destination", "meta", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errOut)
	}
	var sum deliver.ReplaySummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if sum.Scanned != 5 || sum.Matched != 3 || sum.Moved != 0 || sum.ByReason["too_old"] != 2 || sum.ByReason["invalid_parameter"] != 1 {
		t.Errorf("dry run summary %+v, want 5 scanned, 3 matched, 0 moved", sum)
	}

	code, out, errOut = run(t, "", "replay", "--config", path, "--from", "dlq", "--destination", "meta", "--reason", "too_old")
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "moved 2 to sp.out.meta") || !strings.Contains(out, "too_old") {
		t.Errorf("replay output:\n%s", out)
	}

	// sp.out.meta now holds a and b, marked as replays; sp.out.hook nothing.
	rd, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics("sp.out.meta", "sp.out.hook"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]string{}
	for len(got) < 2 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("replayed records: %v", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got[r.Topic+":"+string(r.Key)] = kafkax.Header(r, deliver.HeaderReplayedFrom) })
	}
	pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got[r.Topic+":"+string(r.Key)] = "" })
	pcancel()
	if len(got) != 2 || !strings.HasPrefix(got["sp.out.meta:a"], "sp.dlq/") || !strings.HasPrefix(got["sp.out.meta:b"], "sp.dlq/") {
		t.Errorf("replayed records %v, want a and b on sp.out.meta with their DLQ coordinates", got)
	}

	if code, _, errOut := run(t, "", "replay", "--config", path, "--from", "dlq", "--destination", "nope"); code != 2 || !strings.Contains(errOut, "hook") {
		t.Errorf("unknown destination: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "", "replay", "--config", path, "--from", "archive", "--destination", "meta"); code != 2 || !strings.Contains(errOut, "dlq or retry") {
		t.Errorf("bad --from: exit %d, %q", code, errOut)
	}
}
