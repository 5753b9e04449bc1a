package kafkax

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func ptr(s string) *string { return &s }

// TestPlanApplyPlan: a plan on a cluster shows what is missing and what
// differs; apply creates only the missing topics, with the configs asked
// for, and leaves a topic that differs as it is; a second plan shows
// everything there.
func TestPlanApplyPlan(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := StartEmbedded("127.0.0.1:0", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// An operator made this one by hand, with fewer partitions.
	if err := b.Cluster.CreateTopic("sp.events", 2, nil); err != nil {
		t.Fatal(err)
	}
	// And this one with the right shape but compacted.
	if err := b.Cluster.CreateTopic("sp.dlq", 4, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	adm := newAdmin(t, b.Addr)
	specs := []TopicSpec{
		{Name: "events.web", Partitions: 4},
		{Name: "sp.events", Partitions: 4},
		{Name: "sp.dlq", Partitions: 4, Configs: map[string]*string{"cleanup.policy": ptr("delete")}},
		{Name: "sp.outcomes", Partitions: 4, Configs: map[string]*string{"retention.ms": ptr("1209600000")}},
	}

	plans, err := PlanTopics(ctx, adm, -1, specs...)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		status TopicStatus
		diffs  []string
	}
	got := map[string]row{}
	for _, p := range plans {
		got[p.Spec.Name] = row{p.Status, p.Differences}
	}
	want := map[string]row{
		"events.web":  {TopicMissing, nil},
		"sp.events":   {TopicDiffers, []string{"partitions 2 vs 4"}},
		"sp.dlq":      {TopicDiffers, []string{"cleanup.policy compact vs delete"}},
		"sp.outcomes": {TopicMissing, nil},
	}
	for name, w := range want {
		if g := got[name]; g.status != w.status || !slices.Equal(g.diffs, w.diffs) {
			t.Errorf("plan %s: %s %q, want %s %q", name, g.status, g.diffs, w.status, w.diffs)
		}
	}
	for i, p := range plans {
		if p.Spec.Name != specs[i].Name {
			t.Errorf("plan[%d] is %s, want the config's order (%s)", i, p.Spec.Name, specs[i].Name)
		}
	}

	created, err := ApplyPlan(ctx, adm, plans)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(created, []string{"events.web", "sp.outcomes"}) {
		t.Errorf("created %v, want the two missing topics", created)
	}

	// A new client, as a second `signalpipe topics plan` would be: the first
	// one's metadata cache may still remember the topics as missing.
	adm = newAdmin(t, b.Addr)
	again, err := PlanTopics(ctx, adm, -1, specs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range again {
		switch p.Spec.Name {
		case "events.web":
			if p.Status != TopicExists || p.Partitions != 4 {
				t.Errorf("events.web after apply: %s with %d partitions, want exists with 4", p.Status, p.Partitions)
			}
		case "sp.outcomes":
			if p.Status != TopicExists || p.Configs[ConfigRetentionMs] != "1209600000" {
				t.Errorf("sp.outcomes after apply: %s, retention.ms %q; want exists with the retention asked for", p.Status, p.Configs[ConfigRetentionMs])
			}
		case "sp.events":
			if p.Status != TopicDiffers || p.Partitions != 2 {
				t.Errorf("sp.events after apply: %s with %d partitions; apply must leave a topic that differs alone", p.Status, p.Partitions)
			}
		case "sp.dlq":
			if p.Configs[ConfigCleanupPolicy] != "compact" {
				t.Errorf("sp.dlq after apply: cleanup.policy %q; apply must not change configs", p.Configs[ConfigCleanupPolicy])
			}
		}
	}
	if n, err := ApplyPlan(ctx, adm, again); err != nil || len(n) != 0 {
		t.Errorf("second apply created %v (err %v), want nothing", n, err)
	}
}

// TestPlanReplication: a replication factor the config asks for is compared
// with the cluster's; -1 (the broker's default) is not.
func TestPlanReplication(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := StartEmbedded("127.0.0.1:0", "", 1, "in")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	adm := newAdmin(t, b.Addr)
	for _, tt := range []struct {
		name        string
		replication int16
		want        TopicStatus
		diffs       []string
	}{
		{"broker default", -1, TopicExists, nil},
		{"as the cluster has it", 1, TopicExists, nil},
		{"more than the cluster has", 3, TopicDiffers, []string{"replication 1 vs 3"}},
	} {
		plans, err := PlanTopics(ctx, adm, tt.replication, TopicSpec{Name: "in", Partitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p := plans[0]; p.Status != tt.want || !slices.Equal(p.Differences, tt.diffs) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, p.Status, p.Differences, tt.want, tt.diffs)
		}
	}
}

func TestFormatRetention(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"604800000", "7d"},
		{"-1", "forever"},
		{"129600000", "36h"},
		{"90000", "90000ms"},
		{"300000", "5m"},
		{"x", "x"},
	} {
		if got := FormatRetention(tt.in); got != tt.want {
			t.Errorf("FormatRetention(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
