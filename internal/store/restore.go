package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrNotReady says a partition's state is still being restored from the
// changelog; the restore goes on in the background and a later call picks
// the partition up.
var ErrNotReady = errors.New("state is still being restored")

// DefaultRetryAfter: see Config.RetryAfter.
const DefaultRetryAfter = 5 * time.Second

// opening is one partition being opened (and caught up) in the background.
// Its result is read on the loop goroutine only after done is closed.
type opening struct {
	done   chan struct{}
	cancel context.CancelFunc
	pt     *Partition
	err    error
	// overdue is set once a caller's deadline passed on this opening.
	overdue bool
}

// failure is a partition's last failed attempt to open.
type failure struct {
	at  time.Time
	err error
}

// PartitionBy returns partition p when its state is ready by deadline
// (zero: no deadline). A partition that is not open starts opening in the
// background, and that goes on past the deadline: a restore that takes
// longer than a batch may wait is never started over by the next batch.
// Nor is it waited for again: once one deadline has passed on an opening,
// later calls with a deadline only look whether it has ended, so batches
// do not each pay the wait while a long restore runs.
// It returns ErrNotReady when the deadline passes first, the error of the
// attempt when opening failed (for Config.RetryAfter no new attempt starts
// and that error comes back at once), and ctx's error when ctx ends.
func (s *Store) PartitionBy(ctx context.Context, p int32, deadline time.Time) (*Partition, error) {
	if pt, ok := s.parts[p]; ok {
		return pt, nil
	}
	o, err := s.start(p)
	if err != nil {
		return nil, err
	}
	select {
	case <-o.done:
	default:
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			wait := time.Until(deadline)
			if o.overdue {
				wait = 0
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-o.done:
		case <-timeout:
			o.overdue = true
			return nil, ErrNotReady
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	delete(s.opening, p)
	if o.err != nil {
		s.failed[p] = failure{at: time.Now(), err: o.err}
		return nil, o.err
	}
	delete(s.failed, p)
	s.parts[p] = o.pt
	return o.pt, nil
}

// Prepare starts opening partitions that are neither open nor opening, so
// the restores of a batch's partitions run side by side rather than one
// after the other.
func (s *Store) Prepare(parts ...int32) {
	for _, p := range parts {
		if _, ok := s.parts[p]; !ok {
			_, _ = s.start(p)
		}
	}
}

// start returns p's opening, starting one unless one runs or p failed
// within RetryAfter (then it returns that failure).
func (s *Store) start(p int32) (*opening, error) {
	if o, ok := s.opening[p]; ok {
		return o, nil
	}
	if f, ok := s.failed[p]; ok && time.Since(f.at) < s.cfg.RetryAfter {
		return nil, fmt.Errorf("%w (retrying in %s)", f.err, (s.cfg.RetryAfter - time.Since(f.at)).Round(time.Millisecond))
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &opening{done: make(chan struct{}), cancel: cancel}
	s.opening[p] = o
	go func() {
		defer close(o.done)
		defer cancel()
		if s.cfg.BeforeOpen != nil {
			if o.err = s.cfg.BeforeOpen(ctx, p); o.err != nil {
				return
			}
		}
		o.pt, o.err = s.open(ctx, p)
	}()
	return o, nil
}

// abandon stops p's opening, if any, and waits for it to end, so that no
// two openings ever hold (or remove) the same directory.
func (s *Store) abandon(p int32) {
	o, ok := s.opening[p]
	if !ok {
		return
	}
	delete(s.opening, p)
	o.cancel()
	<-o.done
	if o.pt != nil {
		o.pt.close()
	}
}

// PartitionError is a failed read of one partition's local copy (its
// Pebble database): the copy may be corrupt, and reading it again would
// fail again. Drop has the next use rebuild it from the changelog.
type PartitionError struct {
	Partition int32
	Err       error
}

func (e *PartitionError) Error() string {
	return fmt.Sprintf("state of partition %d: %v", e.Partition, e.Err)
}

// Unwrap returns the database's error.
func (e *PartitionError) Unwrap() error { return e.Err }

// fail wraps a database error (nil stays nil).
func (p *Partition) fail(err error) error {
	if err == nil {
		return nil
	}
	return &PartitionError{Partition: p.id, Err: err}
}

// Drop is Revoke for a local copy that fails: partition p is closed at the
// next Commit or Discard, its copy is deleted, and its next use restores it
// in full from the changelog (the copy is only a cache).
func (s *Store) Drop(p int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[p] = true
	s.dropped[p] = true
}

// removeCopy deletes partition p's local copy; p is neither open nor
// opening.
func (s *Store) removeCopy(p int32) {
	if err := os.RemoveAll(s.dir(p)); err != nil {
		s.cfg.Logger.Warn("removing a failing local copy; it is tried as it is", "store", s.cfg.Name, "partition", p, "err", err)
		return
	}
	s.cfg.Logger.Warn("local copy failed; restoring it from the changelog", "store", s.cfg.Name, "partition", p)
}
