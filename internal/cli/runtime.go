package cli

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the GC target the binary runs with unless GOGC is set.
// The pipeline's cost is allocation-bound (JSON trees, schema validation)
// while its live heap is small (the backlog waits in Kafka), so collecting
// half as often buys ~5–8% throughput end to end (make bench) for a few tens
// of MiB.
const DefaultGCPercent = 200

// DefaultMemoryLimit is the soft heap limit the binary runs with unless
// GOMEMLIMIT is set. The live heap stays small (tens of MiB: batches in
// hand, not the backlog), but at full speed GOGC=200 lets garbage pile up
// to several hundred MiB before a collection; the limit makes the collector
// work harder instead, so a pod's memory stays flat under any backlog. Set
// GOMEMLIMIT to about 80% of the container's limit to give it more room.
const DefaultMemoryLimit = 200 << 20

// TuneRuntime applies DefaultGCPercent and DefaultMemoryLimit unless GOGC and
// GOMEMLIMIT are set.
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}
