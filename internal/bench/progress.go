package bench

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the suite's progress bar over all requests; a nil writer
// makes it a no-op.
type progress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

// newProgress returns a bar of total requests drawn on w (nil: none).
func newProgress(w io.Writer, total int) *progress {
	p := new(progress)
	if w == nil {
		return p
	}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetDescription("starting"),
		progressbar.OptionShowDescriptionAtLineEnd(),
	)
	return p
}

// add counts one finished request. Safe for concurrent use.
func (p *progress) add() {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	_ = p.bar.Add(1)
	p.mu.Unlock()
}

// describe names the current run.
func (p *progress) describe(s string) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	p.bar.Describe(s)
	p.mu.Unlock()
}

// finish completes the bar and ends its line.
func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	_ = p.bar.Finish()
	_ = p.bar.Exit()
	p.mu.Unlock()
}
