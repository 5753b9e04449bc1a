package kafkax

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Handler turns one polled batch into output records. Everything it hands to
// out is produced in the same transaction that commits the batch's offsets,
// so either all of it becomes visible together with the commit, or none of it
// does and the batch is polled again. A Handler returns an error to abort.
type Handler func(ctx context.Context, recs []*kgo.Record, out *Output) error

// Output collects the records a Handler produces inside the open transaction.
type Output struct {
	produce func(r *kgo.Record, promise func(*kgo.Record, error))
	mu      sync.Mutex
	err     error
	n       int
	holds   map[TopicPartition]time.Time
}

// NewOutput returns an Output that hands records to produce; the loop uses
// the transaction's producer, tests a collector.
func NewOutput(produce func(r *kgo.Record, promise func(*kgo.Record, error))) *Output {
	return &Output{produce: produce}
}

// Hold asks the loop not to fetch topic's partition again before until, once
// this batch is committed: a retry consumer holds a partition whose next
// record is not due yet, so it neither spins nor buffers what follows.
func (o *Output) Hold(topic string, partition int32, until time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.holds == nil {
		o.holds = map[TopicPartition]time.Time{}
	}
	tp := TopicPartition{topic, partition}
	if t, ok := o.holds[tp]; !ok || until.After(t) {
		o.holds[tp] = until
	}
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Produce queues r in the current transaction. A failed produce makes the
// transaction abort when the batch ends.
func (o *Output) Produce(r *kgo.Record) {
	o.n++
	o.produce(r, func(_ *kgo.Record, err error) {
		if err != nil {
			o.mu.Lock()
			if o.err == nil {
				o.err = err
			}
			o.mu.Unlock()
		}
	})
}

// Err returns the first produce error so far.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// TransactLoop consumes with a consumer group and, per polled batch, runs a
// Handler inside one Kafka transaction that also commits the batch's offsets.
//
// Why this order is safe: offsets are committed by TxnOffsetCommit inside the
// transaction, so they become visible only together with the produced
// records. A crash before EndTxn leaves the transaction to be aborted (by the
// timeout, or at once when the same transactional id starts again); the
// batch is then consumed again and its outputs, invisible to read_committed
// readers, are produced again. A rebalance during the batch aborts it
// (franz-go's GroupTransactSession) and rewinds to the committed offsets.
type TransactLoop struct {
	Name    string
	Session *kgo.GroupTransactSession
	// PollRecords bounds one batch; Linger is how long to wait for more
	// records when a poll returned fewer.
	PollRecords int
	Linger      time.Duration
	Handle      Handler
	// ShutdownTimeout bounds how long the batch in hand may take to finish
	// after ctx is cancelled; then its context is cancelled too.
	ShutdownTimeout time.Duration
	// EndTimeout bounds committing a transaction.
	EndTimeout time.Duration
	// AbortBackoff is waited after an aborted batch before polling again.
	AbortBackoff time.Duration
	Logger       *slog.Logger
	// OnCommit, if set, is told how many records a committed batch consumed.
	OnCommit func(consumed, produced int)
	// Gate, if set, is asked before each poll; while it says not ready the
	// loop pauses fetching (the backlog stays in Kafka) and waits.
	Gate func() (ready bool, wait time.Duration)
	// Topics are the consumed topics, paused while the gate is closed.
	Topics []string
	// AfterBatch, if set, is told whether each batch's transaction
	// committed, so a stage with local state applies or drops the batch's
	// writes. It is not told when ending the transaction failed (the loop
	// returns then): such a stage must treat its state as unknown.
	AfterBatch func(committed bool)

	// held are partitions paused by Output.Hold, until when.
	held map[TopicPartition]time.Time
}

// Run polls and handles batches until ctx is cancelled (returns nil) or the
// session fails in a way that needs a new client (returns the error).
func (l *TransactLoop) Run(ctx context.Context) error {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if !l.waitGate(ctx) {
			return nil
		}
		l.release()
		recs := l.poll(ctx)
		if len(recs) == 0 {
			continue
		}
		committed, out, err := l.batch(ctx, recs)
		if err != nil {
			return fmt.Errorf("%s: ending transaction: %w", l.Name, err)
		}
		if l.AfterBatch != nil {
			l.AfterBatch(committed)
		}
		if committed {
			l.hold(out.holds)
			produced := out.n
			if l.OnCommit != nil {
				l.OnCommit(len(recs), produced)
			}
			continue
		}
		log.Warn("batch aborted; its records will be consumed again", "stage", l.Name, "records", len(recs))
		if l.AbortBackoff > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(l.AbortBackoff):
			}
		}
	}
}

// waitGate blocks while the gate is closed, with fetching paused; it
// returns false if ctx ended meanwhile.
func (l *TransactLoop) waitGate(ctx context.Context) bool {
	if l.Gate == nil {
		return true
	}
	paused := false
	defer func() {
		if paused {
			l.Session.Client().ResumeFetchTopics(l.Topics...)
		}
	}()
	for {
		ready, wait := l.Gate()
		if ready {
			return true
		}
		if !paused {
			l.Session.Client().PauseFetchTopics(l.Topics...)
			paused = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(max(wait, 10*time.Millisecond)):
		}
	}
}

// hold pauses the partitions a committed batch asked to hold.
func (l *TransactLoop) hold(holds map[TopicPartition]time.Time) {
	if len(holds) == 0 {
		return
	}
	if l.held == nil {
		l.held = map[TopicPartition]time.Time{}
	}
	pause := map[string][]int32{}
	for tp, until := range holds {
		l.held[tp] = until
		pause[tp.Topic] = append(pause[tp.Topic], tp.Partition)
	}
	l.Session.Client().PauseFetchPartitions(pause)
}

// release resumes the held partitions whose time has come.
func (l *TransactLoop) release() {
	now := time.Now()
	resume := map[string][]int32{}
	for tp, until := range l.held {
		if !now.Before(until) {
			resume[tp.Topic] = append(resume[tp.Topic], tp.Partition)
			delete(l.held, tp)
		}
	}
	if len(resume) > 0 {
		l.Session.Client().ResumeFetchPartitions(resume)
	}
}

// nextRelease is when the next held partition is due, or zero.
func (l *TransactLoop) nextRelease() time.Time {
	var next time.Time
	for _, until := range l.held {
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	return next
}

// batch handles recs in one transaction and ends it.
func (l *TransactLoop) batch(ctx context.Context, recs []*kgo.Record) (committed bool, out *Output, err error) {
	// The handler's context outlives ctx by ShutdownTimeout, so a stop lets
	// the batch in hand finish (and commit) instead of throwing it away.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
			select {
			case <-done:
			case <-time.After(l.ShutdownTimeout):
				cancel()
			}
		}
	}()

	if err := l.Session.Begin(); err != nil {
		return false, nil, fmt.Errorf("beginning transaction: %w", err)
	}
	out = NewOutput(func(r *kgo.Record, promise func(*kgo.Record, error)) { l.Session.Produce(hctx, r, promise) })
	herr := l.Handle(hctx, recs, out)
	if herr != nil && l.Logger != nil {
		l.Logger.Warn("batch failed", "stage", l.Name, "err", herr)
	}
	endCtx, endCancel := context.WithTimeout(context.WithoutCancel(ctx), l.EndTimeout)
	defer endCancel()
	// Wait for every produce of the batch before deciding: a record that
	// failed to produce must abort the transaction, never be committed past.
	ferr := l.Session.Client().Flush(endCtx)
	perr := out.Err()
	if perr != nil && l.Logger != nil {
		l.Logger.Warn("produce failed; aborting the batch", "stage", l.Name, "err", perr)
	}
	commit := herr == nil && ferr == nil && perr == nil && hctx.Err() == nil
	committed, err = l.Session.End(endCtx, kgo.TransactionEndTry(commit))
	return committed, out, err
}

// poll returns the next batch, waiting up to Linger to fill it, and no
// longer than until the next held partition is due.
func (l *TransactLoop) poll(ctx context.Context) []*kgo.Record {
	if next := l.nextRelease(); !next.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, next)
		defer cancel()
	}
	fs := l.Session.PollRecords(ctx, l.PollRecords)
	l.logFetchErrs(fs)
	recs := fs.Records()
	if len(recs) == 0 || len(recs) >= l.PollRecords || l.Linger <= 0 {
		return recs
	}
	lctx, cancel := context.WithTimeout(ctx, l.Linger)
	defer cancel()
	for len(recs) < l.PollRecords && lctx.Err() == nil {
		fs := l.Session.PollRecords(lctx, l.PollRecords-len(recs))
		l.logFetchErrs(fs)
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// logFetchErrs reports fetch errors; franz-go retries them by itself, so
// they are worth a log line but never end the loop.
func (l *TransactLoop) logFetchErrs(fs kgo.Fetches) {
	if l.Logger == nil {
		return
	}
	for _, fe := range fs.Errors() {
		if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, kgo.ErrClientClosed) {
			continue
		}
		l.Logger.Warn("fetch error", "stage", l.Name, "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
	}
}
