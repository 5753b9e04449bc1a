package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalpipe/signalpipe/internal/kafkax"
	"github.com/signalpipe/signalpipe/internal/sandbox"
)

// syncBuffer is a bytes.Buffer safe for the command and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// brokerAndMeta starts an embedded broker (3 partitions) and a sandbox
// whose Meta takes tokens, both stopped when the test ends.
func brokerAndMeta(t *testing.T, tokens map[string]string) (*kafkax.Embedded, *sandbox.Server, string) {
	t.Helper()
	b, err := kafkax.StartEmbedded("127.0.0.1:0", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	sb := sandbox.New(sandbox.Options{MetaTokens: tokens})
	sbURL, stopSandbox, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSandbox)
	return b, sb, sbURL
}

// runConfig writes the config of a `signalpipe run` on the broker at addr
// with a Meta destination at the sandbox's sbURL (token in TEST_META_TOKEN),
// reading crm.deals, with extra YAML appended; it returns the file's path.
func runConfig(t *testing.T, addr, sbURL, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
kafka:
  brokers: [%q]
  create_topics: true
  partitions: 3
  instance_id: run-test
inputs:
  - {topic: crm.deals, source: crm}
destinations:
  - type: meta
    meta:
      pixel_id: "777"
      access_token_env: TEST_META_TOKEN
      api_version: v22.0
      endpoint: %s
      linger: 50ms
process:
  state_dir: %s
  consent: {unknown: send} # these CRM deals carry no consent signal; the default would strip their identifiers
log: {level: info, format: json}
%s
`, addr, sbURL, t.TempDir(), extra)
	path := filepath.Join(t.TempDir(), "signalpipe.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startRun runs `signalpipe run --config path` until ctx ends; done gets
// its exit code.
func startRun(ctx context.Context, path string) (*syncBuffer, chan int) {
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"run", "--config", path}, IO{In: strings.NewReader(""), Out: &stderr, Err: &stderr})
	}()
	return &stderr, done
}

// TestRunWithConfigFile runs `signalpipe run --config FILE` as a data
// engineer would: a config file naming the brokers, the Meta endpoint and the
// environment variable that holds the token; events produced to the input
// topic reach Meta (the sandbox); SIGTERM (context cancel) stops it cleanly.
func TestRunWithConfigFile(t *testing.T) {
	// Not parallel: it sets an environment variable.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, sb, sbURL := brokerAndMeta(t, map[string]string{"777": "s3cret-token"})
	t.Setenv("TEST_META_TOKEN", "s3cret-token")
	path := runConfig(t, b.Addr, sbURL, `server: {listen: ""}`)
	// The input topic is the producers'; create it as they would.
	if err := b.Cluster.CreateTopic("crm.deals", 3, nil); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	stderr, done := startRun(rctx, path)

	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 50
	for i := 0; i < n; i++ {
		v := fmt.Sprintf(`{"event_id":"deal-%d","event_name":"closed_deal","event_time":%q,"source":"crm","user":{"email":"c%d@example.com"}}`, i, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), i)
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "crm.deals", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for sb.Meta().Stats().Accepted < n {
		select {
		case <-ctx.Done():
			t.Fatalf("sandbox accepted %d of %d; log:\n%s", sb.Meta().Stats().Accepted, n, stderr.String())
		case code := <-done:
			t.Fatalf("run exited early with %d; log:\n%s", code, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d after stop; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop within 30s of SIGTERM")
	}
	if strings.Contains(stderr.String(), "s3cret-token") {
		t.Error("the access token appears in the log")
	}
}

func TestRunReportsConfigErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(path, []byte("kafka: {brokers: [\"x:1\"]}\ninputs: [{topic: a}]\ndestinations: [{type: meta, meta: {pixel_id: \"1\"}}]\nfoo: 1\n"), 0o600)
	code, _, errOut := run(t, "", "run", "--config", path)
	if code != 1 || !strings.Contains(errOut, "foo") {
		t.Errorf("exit %d, %q: want the unknown key named", code, errOut)
	}
	_ = os.WriteFile(path, []byte("kafka: {brokers: [\"x:1\"]}\ninputs: [{topic: a}]\ndestinations: [{type: meta, meta: {pixel_id: \"1\"}}]\n"), 0o600)
	code, _, errOut = run(t, "", "run", "--config", path)
	if code != 1 || !strings.Contains(errOut, "destinations[0].meta.access_token_env") {
		t.Errorf("exit %d, %q: want the missing key named", code, errOut)
	}
}
