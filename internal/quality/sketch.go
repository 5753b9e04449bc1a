package quality

import (
	"math"
	"slices"
)

// Freshness latencies are kept in logarithmic buckets: bucket i holds values
// in [γ^(i-1), γ^i) milliseconds with γ = 1.1, so any quantile read back is
// within 5% of the true value, from 1 ms to beyond a year in 255 buckets. A
// sketch stores only the buckets it has seen (most cells see a handful), so
// it stays small however many events it counts.
const (
	sketchGamma   = 1.1
	sketchBuckets = 256
)

var logGamma = math.Log(sketchGamma)

// sketch is a sparse histogram: sorted entries of bucket<<56 | count.
type sketch []uint64

const countMask = 1<<56 - 1

func bucketOf(seconds float64) int {
	ms := seconds * 1000
	if ms < 1 {
		return 0
	}
	b := int(math.Ceil(math.Log(ms)/logGamma)) + 1
	return min(b, sketchBuckets-1)
}

// add counts one value (seconds).
func (s *sketch) add(seconds float64) {
	b := uint64(bucketOf(seconds))
	i, found := slices.BinarySearchFunc(*s, b, func(e, t uint64) int { return int(e>>56) - int(t) })
	if found {
		(*s)[i]++
		return
	}
	*s = slices.Insert(*s, i, b<<56|1)
}

// dense is a sketch merged for reading.
type dense struct {
	n [sketchBuckets]uint64
	t uint64
}

func (d *dense) merge(s sketch) {
	for _, e := range s {
		c := e & countMask
		d.n[e>>56] += c
		d.t += c
	}
}

// quantile returns the q-quantile in seconds (0 without samples), the
// geometric middle of the bucket holding it.
func (d *dense) quantile(q float64) float64 {
	if d.t == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(d.t)))
	rank = max(rank, 1)
	var cum uint64
	for i, c := range d.n {
		cum += c
		if cum >= rank {
			if i == 0 {
				return 0.0005
			}
			lo := math.Pow(sketchGamma, float64(i-2))
			hi := math.Pow(sketchGamma, float64(i-1))
			return math.Sqrt(lo*hi) / 1000
		}
	}
	return math.Pow(sketchGamma, sketchBuckets-2) / 1000
}
