package kafkax

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicStatus says how a topic on the cluster compares with what the config
// needs.
type TopicStatus string

// Topic statuses.
const (
	TopicExists  TopicStatus = "exists"  // there, as the config wants it
	TopicMissing TopicStatus = "missing" // not there; apply creates it
	TopicDiffers TopicStatus = "differs" // there, but not as the config wants it; apply leaves it
)

// Topic configs a plan always reads, so an operator sees them even when the
// config does not ask for a value.
const (
	ConfigCleanupPolicy = "cleanup.policy"
	ConfigRetentionMs   = "retention.ms"
)

// TopicPlan is one topic the config needs and what the cluster has of it.
type TopicPlan struct {
	// Spec is what the config needs; Replication the replication factor it
	// asks for (-1: the broker's default).
	Spec        TopicSpec
	Replication int16
	Status      TopicStatus
	// Differences name each value the cluster has that the config does not
	// want, cluster value first: "partitions 6 vs 12".
	Differences []string
	// Partitions, Replicas and Configs are what the cluster has; zero for a
	// missing topic. Configs holds cleanup.policy, retention.ms and every
	// key Spec.Configs names, as the broker reports them.
	Partitions int32
	Replicas   int
	Configs    map[string]string
}

// PlanTopics compares the topics the config needs with the cluster. It only
// reads: nothing is created or changed. A topic the client may not describe
// is an error, not "missing", so a plan never proposes to create a topic that
// is merely hidden from it.
func PlanTopics(ctx context.Context, adm *kadm.Client, replication int16, specs ...TopicSpec) ([]TopicPlan, error) {
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name)
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("listing topics: %w", err)
	}
	plans := make([]TopicPlan, 0, len(specs))
	var existing []string
	for _, s := range specs {
		p := TopicPlan{Spec: s, Replication: replication, Status: TopicMissing}
		d, ok := details[s.Name]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
		case d.Err != nil:
			return nil, fmt.Errorf("describing topic %s: %w", s.Name, d.Err)
		default:
			p.Status = TopicExists
			p.Partitions = int32(len(d.Partitions))
			if ps := d.Partitions.Sorted(); len(ps) > 0 {
				p.Replicas = len(ps[0].Replicas)
			}
			existing = append(existing, s.Name)
		}
		plans = append(plans, p)
	}
	configs := map[string]map[string]string{}
	if len(existing) > 0 {
		rcs, err := adm.DescribeTopicConfigs(ctx, existing...)
		if err != nil {
			return nil, fmt.Errorf("describing topic configs: %w", err)
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return nil, fmt.Errorf("describing configs of topic %s: %w", rc.Name, rc.Err)
			}
			m := map[string]string{}
			for _, c := range rc.Configs {
				if c.Value != nil {
					m[c.Key] = *c.Value
				}
			}
			configs[rc.Name] = m
		}
	}
	for i := range plans {
		p := &plans[i]
		if p.Status == TopicMissing {
			continue
		}
		have := configs[p.Spec.Name]
		p.Configs = map[string]string{}
		for _, k := range append([]string{ConfigCleanupPolicy, ConfigRetentionMs}, slices.Sorted(maps.Keys(p.Spec.Configs))...) {
			if v, ok := have[k]; ok {
				p.Configs[k] = v
			}
		}
		p.Differences = differences(*p)
		if len(p.Differences) > 0 {
			p.Status = TopicDiffers
		}
	}
	return plans, nil
}

// differences lists what an existing topic has that the config does not
// want, cluster value first.
func differences(p TopicPlan) []string {
	var out []string
	if p.Partitions != p.Spec.Partitions {
		out = append(out, fmt.Sprintf("partitions %d vs %d", p.Partitions, p.Spec.Partitions))
	}
	if p.Replication > 0 && p.Replicas != int(p.Replication) {
		out = append(out, fmt.Sprintf("replication %d vs %d", p.Replicas, p.Replication))
	}
	for _, k := range slices.Sorted(maps.Keys(p.Spec.Configs)) {
		want := p.Spec.Configs[k]
		if want == nil {
			continue
		}
		have, ok := p.Configs[k]
		if !ok {
			have = "unset"
		}
		if have != *want {
			out = append(out, fmt.Sprintf("%s %s vs %s", k, have, *want))
		}
	}
	return out
}

// ApplyPlan creates the plan's missing topics with the partitions, replication
// factor and configs the config asks for, and returns their names. It never
// deletes a topic, never changes one that exists (fewer partitions can't be
// had, and more would move keys to other partitions), so topics that differ
// stay as they are for an operator to decide. A topic that someone else
// created since the plan was made is neither an error nor reported as created.
func ApplyPlan(ctx context.Context, adm *kadm.Client, plans []TopicPlan) ([]string, error) {
	var created []string
	var errs []error
	for _, p := range plans {
		if p.Status != TopicMissing {
			continue
		}
		resp, err := adm.CreateTopic(ctx, p.Spec.Partitions, p.Replication, p.Spec.Configs, p.Spec.Name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Someone else created it since the plan was made: not ours to report as created.
		case err != nil:
			if resp.ErrMessage != "" {
				err = fmt.Errorf("%w: %s", err, resp.ErrMessage)
			}
			errs = append(errs, fmt.Errorf("creating topic %s: %w", p.Spec.Name, err))
		default:
			created = append(created, p.Spec.Name)
		}
	}
	return created, errors.Join(errs...)
}

// FormatRetention renders a retention.ms value for people: "7d", "36h",
// "forever" for -1; other values as they are.
func FormatRetention(ms string) string {
	n, err := strconv.ParseInt(ms, 10, 64)
	switch {
	case err != nil:
		return ms
	case n < 0:
		return "forever"
	case n > 0 && n%86_400_000 == 0:
		return strconv.FormatInt(n/86_400_000, 10) + "d"
	case n > 0 && n%3_600_000 == 0:
		return strconv.FormatInt(n/3_600_000, 10) + "h"
	case n > 0 && n%60_000 == 0:
		return strconv.FormatInt(n/60_000, 10) + "m"
	default:
		return ms + "ms"
	}
}
