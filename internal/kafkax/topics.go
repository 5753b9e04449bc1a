package kafkax

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec is a topic signalpipe needs.
type TopicSpec struct {
	Name       string
	Partitions int32
	// Configs are topic configs such as cleanup.policy.
	Configs map[string]*string
}

// EnsureTopics is what the pipeline does at start with the same plan
// `signalpipe topics plan|apply` shows: with create, it creates the missing
// topics; without, it returns an error naming every missing one. Topics that
// exist but differ are left as they are (topics plan reports them).
func EnsureTopics(ctx context.Context, cl *kgo.Client, replication int16, create bool, specs ...TopicSpec) error {
	adm := kadm.NewClient(cl)
	plans, err := PlanTopics(ctx, adm, replication, specs...)
	if err != nil {
		return err
	}
	var missing []string
	for _, p := range plans {
		if p.Status == TopicMissing {
			missing = append(missing, p.Spec.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !create {
		sort.Strings(missing)
		return fmt.Errorf("missing topics %s (run `signalpipe topics apply`, or set kafka.create_topics: true)", strings.Join(missing, ", "))
	}
	_, err = ApplyPlan(ctx, adm, plans)
	return err
}
