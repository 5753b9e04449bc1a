package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/signalpipe/signalpipe/internal/cli"
	"github.com/signalpipe/signalpipe/internal/config"
	"github.com/signalpipe/signalpipe/internal/demo"
)

// repo is the repository root, seen from deploy/.
const repo = ".."

// composeFile is the part of the Compose specification docker-compose.yml
// uses; decoding is strict, so a misspelt key fails the test.
type composeFile struct {
	Name      string                    `yaml:"name"`
	Extension any                       `yaml:"x-signalpipe"`
	Services  map[string]composeService `yaml:"services"`
	Volumes   map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Hostname    string            `yaml:"hostname"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	Restart         string   `yaml:"restart"`
	ReadOnly        bool     `yaml:"read_only"`
	SecurityOpt     []string `yaml:"security_opt"`
	CapDrop         []string `yaml:"cap_drop"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
}

type composeBuild struct {
	Context string            `yaml:"context"`
	Args    map[string]string `yaml:"args"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repo, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// pendingCommands are subcommands docker-compose.yml runs that the binary
// does not have yet, with why. Once one exists the test says so, so that its
// flags are checked from then on.
var pendingCommands = map[string]string{}

// checkCommand runs `signalpipe ARGS… -h` in-process: the subcommand must
// exist and its usage must name every --flag the args use.
func checkCommand(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no command", where)
		return
	}
	sub := args[:1]
	if args[0] == "topics" && len(args) > 1 {
		sub = args[:2]
	}
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), append(slices.Clone(sub), "-h"), cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	usage := out.String() + errb.String()
	if code != 0 && strings.Contains(usage, "unknown command") {
		if why, ok := pendingCommands[args[0]]; ok {
			t.Logf("%s: `signalpipe %s` does not exist yet: %s", where, args[0], why)
			return
		}
		t.Errorf("%s: `signalpipe %s` is not a command of this binary", where, strings.Join(sub, " "))
		return
	}
	if _, ok := pendingCommands[args[0]]; ok {
		t.Errorf("`signalpipe %s` exists now: remove it from pendingCommands so that its flags are checked", args[0])
	}
	if code != 0 {
		t.Errorf("%s: `signalpipe %s -h` exits %d:\n%s", where, strings.Join(sub, " "), code, usage)
	}
	for _, a := range args[len(sub):] {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		flag := strings.SplitN(strings.TrimPrefix(a, "--"), "=", 2)[0]
		if !regexp.MustCompile(`(^|\s)--?` + regexp.QuoteMeta(flag) + `\b`).MatchString(usage) {
			t.Errorf("%s: `signalpipe %s` has no flag --%s", where, strings.Join(sub, " "), flag)
		}
	}
}

// flagValue returns the value of --name in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// publishes reports whether ports holds "HOST:CONTAINER" for port on both sides.
func publishes(ports []string, port string) bool {
	return slices.Contains(ports, port+":"+port)
}

// TestCompose checks docker-compose.yml against the code and the repository:
// it cannot run here (no Docker engine), so what `docker compose up` would
// find wrong is checked instead.
func TestCompose(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	want := []string{"generator", "kafka", "sandbox", "signalpipe", "topics"}
	if got := slices.Sorted(maps.Keys(c.Services)); !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}

	// Kafka: the official image, KRaft, listeners the config and host clients use.
	k := c.Services["kafka"]
	if !strings.HasPrefix(k.Image, "apache/kafka:") || strings.HasSuffix(k.Image, ":latest") {
		t.Errorf("kafka image %q: want apache/kafka with a pinned version", k.Image)
	}
	if roles := k.Environment["KAFKA_PROCESS_ROLES"]; roles != "broker,controller" {
		t.Errorf("KAFKA_PROCESS_ROLES %q: want KRaft combined mode (broker,controller)", roles)
	}
	for key, v := range k.Environment {
		if strings.Contains(strings.ToLower(key+v), "zookeeper") {
			t.Errorf("kafka: %s mentions ZooKeeper; KRaft needs none", key)
		}
	}
	for _, key := range []string{"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"} {
		if k.Environment[key] != "1" {
			t.Errorf("kafka: %s = %q; on one broker it must be 1, or transactions never start", key, k.Environment[key])
		}
	}
	// The storage is formatted with CLUSTER_ID, which Kafka reads as a Uuid.
	if id, err := base64.RawURLEncoding.DecodeString(k.Environment["CLUSTER_ID"]); err != nil || len(id) != 16 {
		t.Errorf("kafka CLUSTER_ID %q: want 16 bytes in base64url without padding (kafka-storage.sh random-uuid)", k.Environment["CLUSTER_ID"])
	}
	advertised := k.Environment["KAFKA_ADVERTISED_LISTENERS"]
	if k.Healthcheck == nil || len(k.Healthcheck.Test) == 0 {
		t.Error("kafka has no healthcheck; topics would start before the broker listens")
	}

	// The signalpipe services: one image built from this repository.
	var image string
	for name, s := range c.Services {
		if name == "kafka" {
			continue
		}
		if image == "" {
			image = s.Image
		}
		if s.Image != image || s.Build == nil {
			t.Errorf("%s: image %q (build %v); every signalpipe service runs the one image built here", name, s.Image, s.Build)
			continue
		}
		if _, err := os.Stat(filepath.Join(repo, s.Build.Context, "Dockerfile")); err != nil {
			t.Errorf("%s: build context %q has no Dockerfile: %v", name, s.Build.Context, err)
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: want read_only and cap_drop ALL, as the pods run", name)
		}
		checkCommand(t, name, s.Command)
	}

	// Every --config is a file of this repository, mounted read-only, and valid.
	configs := map[string]config.Config{}
	for name, s := range c.Services {
		path := flagValue(s.Command, "config")
		if path == "" {
			continue
		}
		var host string
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == path {
				host = parts[0]
				if len(parts) < 3 || parts[2] != "ro" {
					t.Errorf("%s: %s is mounted writable", name, v)
				}
			}
		}
		if host == "" {
			t.Errorf("%s: --config %s is not a mounted file", name, path)
			continue
		}
		cfg, err := config.Load(filepath.Join(repo, host))
		if err != nil {
			t.Errorf("%s: %s: %v", name, host, err)
			continue
		}
		configs[name] = cfg
	}
	cfg, ok := configs["signalpipe"]
	if !ok {
		t.Fatal("the signalpipe service runs without a config")
	}
	if tcfg, ok := configs["topics"]; !ok || !slices.Equal(tcfg.Kafka.Brokers, cfg.Kafka.Brokers) || !slices.Equal(tcfg.InputTopics(), cfg.InputTopics()) {
		t.Error("the topics service must apply the config signalpipe runs with")
	}

	// The pipeline runs `run` and reaches Kafka on the listener advertised to containers.
	if got := c.Services["signalpipe"].Command; len(got) == 0 || got[0] != "run" || flagValue(got, "stages") != "" {
		t.Errorf("signalpipe runs %q; want `run` with every stage", got)
	}
	for _, b := range cfg.Kafka.Brokers {
		host, port, _ := net.SplitHostPort(b)
		if c.Services[host].Image != k.Image || !strings.Contains(advertised, "://"+b) || !strings.Contains(k.Environment["KAFKA_LISTENERS"], ":"+port) {
			t.Errorf("kafka.brokers %s: not the kafka service's advertised listener (%s)", b, advertised)
		}
	}
	if cfg.Kafka.CreateTopics {
		t.Error("compose config creates topics at start; the topics service is there for that")
	}
	if cfg.Kafka.ReplicationFactor != 1 {
		t.Errorf("kafka.replication_factor %d on a one-broker cluster", cfg.Kafka.ReplicationFactor)
	}
	// Host clients: the EXTERNAL listener is published on its own port.
	for _, l := range strings.Split(advertised, ",") {
		if u, err := url.Parse(l); err == nil && u.Hostname() == "localhost" && !publishes(k.Ports, u.Port()) {
			t.Errorf("kafka advertises %s to host clients but does not publish port %s", l, u.Port())
		}
	}

	// The Meta destination is the sandbox service, on the port it listens on.
	if len(cfg.Destinations) != 1 || cfg.Destinations[0].Meta == nil {
		t.Fatalf("compose config: want one Meta destination (the sandbox), got %+v", cfg.Destinations)
	}
	mc := cfg.Destinations[0].Meta
	sb := c.Services["sandbox"]
	_, sbPort, err := net.SplitHostPort(flagValue(sb.Command, "listen"))
	if err != nil {
		t.Fatalf("sandbox --listen: %v", err)
	}
	u, err := url.Parse(mc.Endpoint)
	if err != nil || u.Hostname() != "sandbox" || u.Port() != sbPort {
		t.Errorf("destinations.meta.endpoint %q: want http://sandbox:%s, the sandbox service", mc.Endpoint, sbPort)
	}
	if !publishes(sb.Ports, sbPort) {
		t.Errorf("sandbox listens on %s but publishes %v", sbPort, sb.Ports)
	}
	sp := c.Services["signalpipe"]
	if _, ok := sp.Environment[mc.AccessTokenEnv]; !ok {
		t.Errorf("signalpipe does not set %s (destinations.meta.access_token_env)", mc.AccessTokenEnv)
	}
	// The status page on localhost:8080.
	_, statusPort, _ := net.SplitHostPort(cfg.Server.Listen)
	if statusPort != "8080" || !publishes(sp.Ports, statusPort) || !strings.HasPrefix(cfg.Server.Listen, "0.0.0.0:") {
		t.Errorf("server.listen %q with ports %v: want 0.0.0.0:8080 published as localhost:8080", cfg.Server.Listen, sp.Ports)
	}

	// The generator writes to the brokers and the topics the pipeline reads.
	gen := c.Services["generator"]
	if got := flagValue(gen.Command, "brokers"); got != strings.Join(cfg.Kafka.Brokers, ",") {
		t.Errorf("generator --brokers %q, kafka.brokers %v", got, cfg.Kafka.Brokers)
	}
	if got, want := cfg.InputTopics(), []string{demo.TopicWeb, demo.TopicApp, demo.TopicCRM}; !slices.Equal(got, want) {
		t.Errorf("config inputs %v; the generator writes %v", got, want)
	}

	// Order: broker healthy → topics created → pipeline and generator.
	deps := map[string]map[string]string{
		"topics":     {"kafka": "service_healthy"},
		"signalpipe": {"topics": "service_completed_successfully"},
		"generator":  {"topics": "service_completed_successfully"},
	}
	for svc, ds := range deps {
		for dep, cond := range ds {
			if got := c.Services[svc].DependsOn[dep].Condition; got != cond {
				t.Errorf("%s depends on %s with %q, want %q", svc, dep, got, cond)
			}
		}
	}
	if c.Services["topics"].Restart != "no" {
		t.Error("topics is a one-shot service: restart must be \"no\"")
	}
	// No two services publish the same host port.
	hostPorts := map[string]string{}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			hp := strings.Split(p, ":")[0]
			if other, dup := hostPorts[hp]; dup {
				t.Errorf("host port %s published by %s and %s", hp, other, name)
			}
			hostPorts[hp] = name
		}
	}
}

// Version must stay a string variable: the Dockerfile sets it with -X.
var _ *string = &cli.Version

// TestDockerfile: the image is built as `make build` builds the binary,
// with the Go of go.mod, and runs it as a non-root user on a static base.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	df, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := regexp.MustCompile(`(?m)^module (\S+)`).FindSubmatch(gomod)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod)
	text := string(df)

	if m := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)`).FindStringSubmatch(text); m == nil || m[1] != string(goVersion[1]) {
		t.Errorf("Dockerfile GO_VERSION %v; go.mod says go %s", m, goVersion[1])
	}
	var froms, users, entry []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[len(f)-1])
			if strings.EqualFold(f[len(f)-2], "AS") {
				froms[len(froms)-1] = f[len(f)-3]
			}
		case "USER":
			users = append(users, f[1])
		case "ENTRYPOINT":
			entry = f[1:]
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, FROM lines %v", froms)
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final stage FROM %s: want distroless static or scratch", final)
	}
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "root") || strings.HasPrefix(users[len(users)-1], "0") {
		t.Errorf("USER %v: the image must run as a non-root user", users)
	}
	for _, want := range []string{
		"CGO_ENABLED=0",
		"-trimpath",
		"-X " + string(module[1]) + "/internal/cli.Version=${VERSION}",
		"./cmd/signalpipe",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the build does not use %q", want)
		}
	}
	if len(entry) == 0 || !strings.Contains(text, "COPY --from=build /out/signalpipe "+strings.Trim(entry[0], `["],`)) {
		t.Errorf("ENTRYPOINT %v is not the binary the final stage copies", entry)
	}
	if _, err := os.Stat(filepath.Join(repo, "cmd", "signalpipe")); err != nil {
		t.Error(err)
	}
	// .dockerignore must leave in what the build reads.
	ignore, err := os.ReadFile(filepath.Join(repo, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(ignore), "\n") {
		l = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "/"), "/")
		if slices.Contains([]string{"go.mod", "go.sum", "cmd", "internal", "schemas", "*", "**"}, l) {
			t.Errorf(".dockerignore excludes %s, which the build needs", l)
		}
	}
}
