//go:build unix

package ingest

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user+system) the process has used so far,
// GC workers included. Benchmarks report it per op because on a shared
// machine wall time also counts the time spent waiting for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
