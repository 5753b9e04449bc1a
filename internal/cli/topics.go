package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/app"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/kafkax"
)

const topicsUsage = `usage: signalpipe topics plan|apply --config FILE

  plan   shows every topic the config needs (its input topics and signalpipe's own)
         and whether the cluster has it: exists, missing, or differs (cluster value
         vs config value). It changes nothing; exit status 0 when the cluster could
         be read.
  apply  creates the missing topics with the config's partitions, replication
         factor and topic configs. It never deletes a topic and never changes one
         that exists: it reports the differences it leaves for you to decide.

Flags:
  --config FILE   the pipeline's config (the same file 'signalpipe run' reads)
  --timeout D     give up after this long (default 30s)
`

// topicsCmd is `signalpipe topics plan|apply`: the topics the pipeline
// needs, from the same code that builds the pipeline, so the plan and the
// pipeline never disagree.
func topicsCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || (args[0] != "plan" && args[0] != "apply") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(io.Out, topicsUsage)
			return exitOK
		}
		fmt.Fprint(io.Err, topicsUsage)
		return exitUsage
	}
	sub := args[0]
	fs := newFlags("topics "+sub, io)
	fs.Usage = func() { fmt.Fprint(io.Err, topicsUsage) }
	path := fs.String("config", "", "config file (YAML)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if code, done := parse(fs, args[1:]); done {
		return code
	}
	if *path == "" {
		fmt.Fprintf(io.Err, "signalpipe topics %s: --config FILE is required\n", sub)
		return exitUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return fail(io, "%v", err)
	}
	specs, err := neededTopics(cfg)
	if err != nil {
		return fail(io, "%v", err)
	}
	opts, err := cfg.Kafka.ClientOpts()
	if err != nil {
		return fail(io, "%v", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fail(io, "connecting to kafka: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	plans, err := kafkax.PlanTopics(ctx, adm, cfg.Kafka.ReplicationFactor, specs...)
	if err != nil {
		return fail(io, "reading topics on %v: %v", cfg.Kafka.Brokers, err)
	}
	writePlan(io, plans)
	missing, differs := 0, 0
	for _, p := range plans {
		switch p.Status {
		case kafkax.TopicMissing:
			missing++
		case kafkax.TopicDiffers:
			differs++
		}
	}
	if sub == "plan" {
		switch {
		case missing > 0:
			fmt.Fprintf(io.Out, "\n%d missing, %d differ (cluster value vs config value): 'signalpipe topics apply --config %s' creates the missing ones.\n", missing, differs, *path)
		case differs > 0:
			fmt.Fprintf(io.Out, "\n%d differ (cluster value vs config value); apply does not change existing topics.\n", differs)
		default:
			fmt.Fprintf(io.Out, "\nAll %d topics exist as the config wants them.\n", len(plans))
		}
		return exitOK
	}

	created, err := kafkax.ApplyPlan(ctx, adm, plans)
	fmt.Fprintln(io.Out)
	for _, name := range created {
		fmt.Fprintf(io.Out, "created %s\n", name)
	}
	for _, p := range plans {
		for _, d := range p.Differences {
			fmt.Fprintf(io.Out, "left as it is: %s (%s; cluster vs config)\n", p.Spec.Name, d)
		}
	}
	if err != nil {
		return fail(io, "%v", err)
	}
	fmt.Fprintf(io.Out, "%d created, %d existed, %d differ and were left as they are.\n", len(created), len(plans)-missing, differs)
	return exitOK
}

// neededTopics lists the topics the config's pipeline uses: its inputs, then
// the topics (*app.App).Topics names. The app is built for the process stage
// alone, which needs no secrets and compiles nothing, and names the same
// topics as a full pipeline.
func neededTopics(cfg config.Config) ([]kafkax.TopicSpec, error) {
	pipe, err := app.New(cfg, app.Options{Stages: []string{app.StageProcess}})
	if err != nil {
		return nil, err
	}
	var specs []kafkax.TopicSpec
	for _, t := range cfg.InputTopics() {
		specs = append(specs, kafkax.TopicSpec{Name: t, Partitions: cfg.Kafka.Partitions})
	}
	return append(specs, pipe.Topics()...), nil
}

// writePlan prints the plan as a table. Partitions and replication are the
// config's; cleanup and retention the config's when it sets them, else the
// cluster's for an existing topic, else the broker's default.
func writePlan(io IO, plans []kafkax.TopicPlan) {
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION\tCLEANUP\tRETENTION\tSTATUS")
	for _, p := range plans {
		repl := "default"
		if p.Replication > 0 {
			repl = fmt.Sprint(p.Replication)
		}
		cleanup := topicConfig(p, kafkax.ConfigCleanupPolicy)
		retention := topicConfig(p, kafkax.ConfigRetentionMs)
		if retention != "default" {
			retention = kafkax.FormatRetention(retention)
		}
		status := string(p.Status)
		if len(p.Differences) > 0 {
			status += ": "
			for i, d := range p.Differences {
				if i > 0 {
					status += ", "
				}
				status += d
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", p.Spec.Name, p.Spec.Partitions, repl, cleanup, retention, status)
	}
	_ = tw.Flush()
}

func topicConfig(p kafkax.TopicPlan, key string) string {
	if v := p.Spec.Configs[key]; v != nil {
		return *v
	}
	if v, ok := p.Configs[key]; ok {
		return v
	}
	return "default"
}
