package process

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"time"

	"github.com/signalpipe/signalpipe/internal/ingest"
	"github.com/signalpipe/signalpipe/internal/store"
)

// Dedupe marks follow their person. A mark is keyed by destination and id
// only, so a lookup needs no person; but when person S is merged into K
// (link/merge), a duplicate of S's order later keyed by K meets K's
// partition, not S's. So a mark set for a person who can still be merged
// into another (any key below a user id) is also indexed under that person:
// prefixMarkIndex + person + 0x00 + the mark's key, with an empty value, and
// the mark's value names the person. When S's state moves, S's live marks
// (found through the index) travel in the merge record and are written in
// K's partition with their original set time, so the window is not
// extended. A user id is never linked onward, so its marks are not indexed.
// Index entries go when their mark goes (age-out, release, overwrite, move),
// so the index is bounded like the marks.

// maxMovedMarks bounds the marks one merge record carries (≈ 100 bytes
// each): order-id marks first, then the newest. Those left out stay where
// they were set and age out there; they only dedupe in S's partition.
const maxMovedMarks = 512

// markVersion starts a mark value that names its person. Older marks (set
// time first, whose top byte is 0 for millennia) name none.
const markVersion = 0x01

// A mark's value: when it was set (Unix ms), the event id that set it and,
// when indexed, the person it is indexed under.
func encodeMark(at time.Time, eventID, owner string) []byte {
	if owner == "" {
		b := make([]byte, 8, 8+len(eventID))
		binary.BigEndian.PutUint64(b, uint64(at.UnixMilli()))
		return append(b, eventID...)
	}
	b := make([]byte, 9, 9+binary.MaxVarintLen64+len(eventID)+len(owner))
	b[0] = markVersion
	binary.BigEndian.PutUint64(b[1:], uint64(at.UnixMilli()))
	b = binary.AppendUvarint(b, uint64(len(eventID)))
	b = append(b, eventID...)
	return append(b, owner...)
}

// markValue is a decoded mark value.
type markValue struct {
	at      int64
	eventID string
	owner   string // the person it is indexed under; "" when not indexed
}

func decodeMark(v []byte) (markValue, bool) {
	if len(v) < 8 {
		return markValue{}, false
	}
	if v[0] != markVersion {
		return markValue{at: int64(binary.BigEndian.Uint64(v)), eventID: string(v[8:])}, true
	}
	if len(v) < 10 {
		return markValue{}, false
	}
	at := int64(binary.BigEndian.Uint64(v[1:]))
	n, w := binary.Uvarint(v[9:])
	rest := v[9+max(w, 0):]
	if w <= 0 || n > uint64(len(rest)) {
		return markValue{}, false
	}
	return markValue{at: at, eventID: string(rest[:n]), owner: string(rest[n:])}, true
}

// markOwner is the person key a mark set for person k (of that rank) is
// indexed under, or "" when k can never be merged into another person: a
// user id, or an event with no identifier (rank 0).
func markOwner(k string, rank int) string {
	if rank <= 0 || rank >= ingest.RankUser {
		return ""
	}
	return k
}

func markIndexKey(owner string, mark []byte) []byte {
	k := make([]byte, 0, 2+len(owner)+len(mark))
	k = append(k, prefixMarkIndex)
	k = append(k, owner...)
	k = append(k, 0)
	return append(k, mark...)
}

// setMark writes a mark and, for an owner, its index entry; prev is the
// value the key held (nil when none), whose index entry goes if it named
// another person.
func (s *Stage) setMark(b *batch, pt *store.Partition, key, prev []byte, at time.Time, eventID, owner string) error {
	if old, ok := decodeMark(prev); ok && old.owner != "" && old.owner != owner {
		if err := pt.Delete(b.out, markIndexKey(old.owner, key)); err != nil {
			return err
		}
	}
	if err := pt.Set(b.out, key, encodeMark(at, eventID, owner)); err != nil {
		return err
	}
	if owner != "" {
		if err := pt.Set(b.out, markIndexKey(owner, key), []byte{}); err != nil {
			return err
		}
	}
	f, err := s.seen(pt)
	if err != nil {
		return err
	}
	f.add(key)
	return nil
}

// deleteMark deletes a mark whose value is v, and its index entry.
func deleteMark(b *batch, pt *store.Partition, key []byte, v markValue) error {
	if v.owner != "" {
		if err := pt.Delete(b.out, markIndexKey(v.owner, key)); err != nil {
			return err
		}
	}
	return pt.Delete(b.out, key)
}

// movedMark is a dedupe mark travelling with its person in a merge record.
type movedMark struct {
	Key     []byte `json:"k"`
	At      int64  `json:"t"` // when it was first set (Unix ms): moving never extends the window
	EventID string `json:"e"`
}

// takeMarks removes person from's live marks from pt (at most
// maxMovedMarks, order-id marks first, then the newest) and returns them to
// travel with from's state. Index entries whose mark has expired or was
// set since for someone else are dropped on the way.
func (s *Stage) takeMarks(b *batch, pt *store.Partition, from string) ([]movedMark, error) {
	lower := markIndexKey(from, nil)
	upper := append(markIndexKey(from, nil)[:len(lower)-1], 1)
	var idx [][]byte
	if err := pt.Scan(lower, upper, func(k, _ []byte) bool {
		idx = append(idx, append([]byte(nil), k...))
		return true
	}); err != nil {
		return nil, err
	}
	cutoff := b.now.UnixMilli() - s.cfg.DedupeWindow.Milliseconds()
	var live []movedMark
	for _, ik := range idx {
		key := ik[len(lower):]
		v, ok, err := pt.Get(key)
		if err != nil {
			return nil, err
		}
		m, okm := decodeMark(v)
		if ok && okm && m.owner == from && m.at > cutoff {
			live = append(live, movedMark{Key: key, At: m.at, EventID: m.eventID})
			continue
		}
		if err := pt.Delete(b.out, ik); err != nil { // stale: its mark is gone, expired or someone else's
			return nil, err
		}
	}
	slices.SortStableFunc(live, func(a, c movedMark) int {
		if ao, co := isOrderMark(a.Key), isOrderMark(c.Key); ao != co {
			if ao {
				return -1
			}
			return 1
		}
		return cmp.Compare(c.At, a.At) // newest first
	})
	live = live[:min(len(live), maxMovedMarks)]
	for _, m := range live {
		if err := deleteMark(b, pt, m.Key, markValue{owner: from}); err != nil {
			return nil, err
		}
	}
	return live, nil
}

func isOrderMark(key []byte) bool { return bytes.Contains(key, []byte("\x00o\x00")) }

// placeMarks writes marks that travelled from a merged person into pt for
// person k (indexed under owner). A key k's partition already marks inside
// the window keeps its own mark; marks that expired on the way are dropped.
func (s *Stage) placeMarks(b *batch, pt *store.Partition, marks []movedMark, owner string) error {
	cutoff := b.now.UnixMilli() - s.cfg.DedupeWindow.Milliseconds()
	for _, m := range marks {
		if m.At <= cutoff || len(m.Key) == 0 || m.Key[0] != prefixDedupe {
			continue
		}
		prev, ok, err := pt.Get(m.Key)
		if err != nil {
			return err
		}
		if old, okm := decodeMark(prev); ok && okm && old.at > cutoff {
			continue
		}
		if err := s.setMark(b, pt, m.Key, prev, time.UnixMilli(m.At), m.EventID, owner); err != nil {
			return err
		}
	}
	return nil
}
