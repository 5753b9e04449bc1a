package kafkax

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec is a topic signalpipe needs.
type TopicSpec struct {
	Name       string
	Partitions int32
	// Configs are topic configs such as cleanup.policy.
	Configs map[string]*string
}

// EnsureTopics creates the missing topics when create is true; otherwise it
// returns an error naming every missing topic.
func EnsureTopics(ctx context.Context, cl *kgo.Client, replication int16, create bool, specs ...TopicSpec) error {
	adm := kadm.NewClient(cl)
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name)
	}
	existing, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	var missing []TopicSpec
	for _, s := range specs {
		if d, ok := existing[s.Name]; !ok || d.Err != nil {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !create {
		var ms []string
		for _, m := range missing {
			ms = append(ms, m.Name)
		}
		sort.Strings(ms)
		return fmt.Errorf("missing topics %s (create them, or set kafka.create_topics: true)", strings.Join(ms, ", "))
	}
	for _, m := range missing {
		resp, err := adm.CreateTopic(ctx, m.Partitions, replication, m.Configs, m.Name)
		if err != nil {
			return fmt.Errorf("creating topic %s: %w", m.Name, err)
		}
		if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", m.Name, resp.Err)
		}
	}
	return nil
}
