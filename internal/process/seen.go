package process

import (
	"hash/maphash"

	"github.com/signalpipe/signalpipe/internal/store"
)

// seenBits is the size of each partition's filter of dedupe keys: 2 MiB,
// which answers "never marked" wrongly for about 0.1 % of new keys at one
// million marks in the partition and 2.5 % at three million (those then
// cost one lookup, as without the filter).
const seenBits = 1 << 24

// seenHashes is how many bits each key sets.
const seenHashes = 5

// seenFilter is a Bloom filter of every dedupe key a partition holds: most
// events are new, and proving a key absent from the store costs reads of
// tables that compactions keep rewriting, while the filter answers from
// memory. It is built by walking the partition's marks when the partition
// is (re)opened and grows with every mark; deleted marks stay in it (a
// false "maybe" only costs the lookup).
type seenFilter struct {
	seed maphash.Seed
	bits []uint64
}

func newSeenFilter() *seenFilter {
	return &seenFilter{seed: maphash.MakeSeed(), bits: make([]uint64, seenBits/64)}
}

func (f *seenFilter) positions(key []byte, fn func(uint64)) {
	h := maphash.Bytes(f.seed, key)
	h1, h2 := h&0xffffffff, h>>32|1
	for i := uint64(0); i < seenHashes; i++ {
		fn((h1 + i*h2) % seenBits)
	}
}

func (f *seenFilter) add(key []byte) {
	f.positions(key, func(p uint64) { f.bits[p/64] |= 1 << (p % 64) })
}

func (f *seenFilter) mayContain(key []byte) bool {
	ok := true
	f.positions(key, func(p uint64) {
		if f.bits[p/64]&(1<<(p%64)) == 0 {
			ok = false
		}
	})
	return ok
}

// seen returns the filter of pt's dedupe keys, building it on first use of
// this open partition (a reopened partition is a new *store.Partition, so
// its filter is rebuilt from what was restored).
func (s *Stage) seen(pt *store.Partition) (*seenFilter, error) {
	if f, ok := s.filters[pt]; ok {
		return f, nil
	}
	f := newSeenFilter()
	err := pt.Scan([]byte{prefixDedupe}, []byte{prefixDedupe + 1}, func(k, _ []byte) bool {
		f.add(k)
		return true
	})
	if err != nil {
		return nil, err
	}
	for old := range s.filters {
		if old.ID() == pt.ID() {
			delete(s.filters, old) // the partition's previous, closed incarnation
		}
	}
	s.filters[pt] = f
	return f, nil
}
