package demo

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/signalpipe/signalpipe/internal/quality"
)

// progress prints one status line per second: on a terminal it rewrites the
// line in place, elsewhere (CI logs) it prints a new line each time.
type progress struct {
	w        io.Writer
	tty      bool
	lastIn   int64
	lastDone int64
	lastAt   time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, lastAt: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) line(s quality.Status, final bool) {
	now := time.Now()
	secs := now.Sub(p.lastAt).Seconds()
	if secs <= 0 {
		secs = 1
	}
	o := s.Ledger.Outcomes
	inRate := float64(s.Inputs-p.lastIn) / secs
	outRate := float64(s.Ledger.Terminal-p.lastDone) / secs
	p.lastIn, p.lastDone, p.lastAt = s.Inputs, s.Ledger.Terminal, now
	dl := o["invalid"] + o["rejected"] + o["expired"]
	text := fmt.Sprintf("[%5.0fs] in %d (%.0f/s) | delivered %d | rejected %d | expired %d | dead-lettered %d | outcomes %.0f/s",
		now.Sub(s.Started).Seconds(), s.Inputs, inRate, o["delivered"], o["rejected"], o["expired"], dl, outRate)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", text)
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, text)
}
