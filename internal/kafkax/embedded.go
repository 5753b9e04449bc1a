package kafkax

import (
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is the in-process Kafka-compatible broker (franz-go's kfake) that
// the demo and the tests use; it listens on a real TCP port, so kcat or any
// Kafka client can talk to it.
type Embedded struct {
	Cluster *kfake.Cluster
	Addr    string
}

// StartEmbedded starts a one-broker cluster listening on listen
// (host:port; port 0 picks a free one). With dataDir it persists there and
// reloads what it had. Topics are created with the given partitions.
func StartEmbedded(listen, dataDir string, partitions int32, topics ...string) (*Embedded, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: listening on %s: %w (is another broker running? choose another address)", listen, err)
	}
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(int(partitions)),
		kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(string, string) (net.Listener, error) {
			if used {
				return nil, fmt.Errorf("embedded broker has one listener")
			}
			used = true
			return ln, nil
		}),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("starting embedded broker: %w", err)
	}
	return &Embedded{Cluster: c, Addr: c.ListenAddrs()[0]}, nil
}

// Close stops the broker (persisting its state when it has a data dir).
func (e *Embedded) Close() { e.Cluster.Close() }
