package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

// planRows parses the table `topics plan|apply` prints: topic → status.
func planRows(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "TOPIC") {
		t.Fatalf("no table in output:\n%s", out)
	}
	statusAt := strings.Index(lines[0], "STATUS")
	rows := map[string]string{}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		rows[strings.Fields(l)[0]] = strings.TrimSpace(l[statusAt:])
	}
	return rows
}

// TestTopicsPlanMatchesPipeline: `topics plan` on an empty cluster lists
// every topic as missing; `topics apply` creates them; the pipeline then
// starts with create_topics off (so it would fail on any topic apply
// missed), carries valid and malformed records to every one of them, and
// when it has stopped the cluster holds exactly the topics the plan listed.
func TestTopicsPlanMatchesPipeline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, sb, sbURL := brokerAndMeta(t, nil)
	path := filepath.Join(t.TempDir(), "signalpipe.yaml")
	cfgText := fmt.Sprintf(`
kafka:
  brokers: [%q]
  create_topics: false
  partitions: 3
  instance_id: topics-test
  metadata_max_age: 10s
inputs:
  - {topic: events.web, source: web}
  - {topic: events.crm, source: crm}
destinations:
  - type: meta
    meta:
      pixel_id: "777"
      access_token_env: TOPICS_TEST_META_TOKEN
      endpoint: %s
      linger: 20ms
server: {listen: ""}
`, b.Addr, sbURL)
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, "", "topics", "plan", "--config", path)
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	planned := planRows(t, out)
	for name, status := range planned {
		if status != "missing" {
			t.Errorf("plan on an empty cluster: %s is %q, want missing", name, status)
		}
	}
	if !strings.Contains(out, "topics apply --config") {
		t.Errorf("plan with missing topics does not say how to create them:\n%s", out)
	}

	code, out, errOut = run(t, "", "topics", "apply", "--config", path)
	if code != 0 {
		t.Fatalf("apply exited %d: %s\n%s", code, out, errOut)
	}
	for name := range planned {
		if !strings.Contains(out, "created "+name+"\n") {
			t.Errorf("apply did not report creating %s:\n%s", name, out)
		}
	}
	code, out, _ = run(t, "", "topics", "plan", "--config", path)
	if code != 0 {
		t.Fatalf("second plan exited %d", code)
	}
	for name, status := range planRows(t, out) {
		if status != "exists" {
			t.Errorf("plan after apply: %s is %q, want exists", name, status)
		}
	}

	// The pipeline on the applied topics.
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := app.New(cfg, app.Options{Getenv: func(k string) string {
		if k == "TOPICS_TEST_META_TOKEN" {
			return "sandbox-token"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pipe.Run(pctx) }()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 20 {
		v := fmt.Sprintf(`{"event_id":"deal-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"c%d@example.com"}}`, i, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), i)
		recs = append(recs, &kgo.Record{Topic: "events.crm", Value: []byte(v)})
	}
	recs = append(recs, &kgo.Record{Topic: "events.web", Value: []byte(`{"event_id": "broken`)})
	// A withdrawal of consent, so the withdrawals topic is used too.
	recs = append(recs, &kgo.Record{Topic: "events.crm", Value: []byte(fmt.Sprintf(`{"event_id":"withdrawal","event_name":"lead","event_time":%q,"source":"crm","user":{"email":"c0@example.com"},"consent":{"ad_user_data":"denied"}}`, time.Now().UTC().Format(time.RFC3339)))})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Wait until every planned topic holds records: the pipeline used them
	// all. Retry tiers fill only when a platform asks for an event again;
	// the quality topics belong to run's quality stage, not to the
	// pipeline (and the leader topic never holds records).
	adm := kadm.NewClient(cl)
	names := slices.Sorted(maps.Keys(planned))
	var used []string
	for _, n := range names {
		if !strings.Contains(n, ".retry.") && !strings.Contains(n, ".quality.") {
			used = append(used, n)
		}
	}
	for {
		ends, err := adm.ListEndOffsets(ctx, used...)
		empty := []string{}
		if err == nil {
			for _, n := range used {
				total := int64(0)
				ends.Each(func(o kadm.ListedOffset) {
					if o.Topic == n {
						total += o.Offset
					}
				})
				if total == 0 {
					empty = append(empty, n)
				}
			}
		}
		if err == nil && len(empty) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("planned topics still empty: %v (err %v); sandbox accepted %d", empty, err, sb.Meta().Stats().Accepted)
		case err := <-done:
			t.Fatalf("pipeline stopped early: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("pipeline: %v", err)
	}

	listed, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := listed.Names(); !slices.Equal(got, names) {
		t.Errorf("after the pipeline ran the cluster has topics %v; the plan listed %v", got, names)
	}
	want := []string{"events.crm", "events.web", "sp.dlq", "sp.events", "sp.out.meta", "sp.outcomes", "sp.quality.leader", "sp.quality.snapshots",
		"sp.retry.meta.1h", "sp.retry.meta.30s", "sp.retry.meta.5m", "sp.retry.meta.6h", "sp.state.process", "sp.state.withdrawals"}
	if !slices.Equal(names, want) {
		t.Errorf("plan lists %v, want %v", names, want)
	}
}

// TestTopicsPlanShowsDifferences: a topic with fewer partitions than the
// config wants is reported with both values, and apply leaves it alone.
func TestTopicsPlanShowsDifferences(t *testing.T) {
	t.Parallel()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Cluster.CreateTopic("sp.events", 2, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signalpipe.yaml")
	cfgText := fmt.Sprintf(`
kafka: {brokers: [%q], partitions: 6}
inputs: [{topic: events.web, source: web}]
destinations: [{type: meta, meta: {pixel_id: "1", access_token_env: UNSET_TOKEN_ENV}}]
`, b.Addr)
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "topics", "plan", "--config", path)
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errOut)
	}
	if got := planRows(t, out)["sp.events"]; got != "differs: partitions 2 vs 6" {
		t.Errorf("sp.events: %q, want %q\n%s", got, "differs: partitions 2 vs 6", out)
	}
	code, out, errOut = run(t, "", "topics", "apply", "--config", path)
	if code != 0 {
		t.Fatalf("apply exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "left as it is: sp.events (partitions 2 vs 6; cluster vs config)") {
		t.Errorf("apply does not report the difference it leaves:\n%s", out)
	}
	if strings.Contains(out, "created sp.events") {
		t.Errorf("apply recreated a topic that exists:\n%s", out)
	}
}

func TestTopicsUsage(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("kafka: {brokers: [\"x:1\"]}\nnope: 1\n"), 0o600)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"topics"}, exitUsage, "plan|apply"},
		{"unknown subcommand", []string{"topics", "delete"}, exitUsage, "plan|apply"},
		{"no config", []string{"topics", "plan"}, exitUsage, "--config FILE is required"},
		{"bad config", []string{"topics", "apply", "--config", bad}, exitFailed, "nope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
