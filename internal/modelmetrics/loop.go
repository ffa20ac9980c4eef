package modelmetrics

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/infergate/infergate/internal/pool"
)

// loop scrapes one endpoint every interval until its context is cancelled.
// Its fields other than cancel and done belong to the loop's goroutine.
type loop struct {
	s          *Scraper
	ep         *pool.Endpoint
	logger     *slog.Logger
	metricsURL string
	modelsURL  string

	failures      int // Consecutive failed metrics scrapes.
	modelsFailing bool
	nextModels    time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

// startLoop starts a loop for ep under ctx.
func (s *Scraper) startLoop(ctx context.Context, ep *pool.Endpoint) *loop {
	ctx, cancel := context.WithCancel(ctx)
	l := &loop{
		s:          s,
		ep:         ep,
		logger:     s.logger.With("endpoint", endpointName(ep), "address", ep.Address()),
		metricsURL: s.metricsURL(ep),
		modelsURL:  s.modelsURL(ep),
		cancel:     cancel,
		done:       make(chan struct{}),
	}
	s.self.loopStarted(ep)
	go l.run(ctx)
	return l
}

// stop cancels the loop and waits for it to finish.
func (l *loop) stop() {
	l.cancel()
	<-l.done
}

func (l *loop) run(ctx context.Context) {
	defer close(l.done)
	defer l.s.self.loopStopped(l.ep)

	// Spread the first scrapes of many endpoints over one interval.
	offset := time.NewTimer(rand.N(l.s.interval))
	select {
	case <-ctx.Done():
		offset.Stop()
		return
	case <-offset.C:
	}

	ticker := time.NewTicker(l.s.interval)
	defer ticker.Stop()
	for {
		l.scrape(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// scrape runs one iteration: the metrics scrape, then the model list when it
// is due. A panic is logged and counted as a failed scrape, and the loop
// goes on.
func (l *loop) scrape(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			l.logger.Error("panic in model server scrape", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			l.ep.RecordScrapeFailure()
			l.failures++
		}
	}()

	p := l.s.parsers.Get().(*parser)
	err := l.s.scrapeMetrics(ctx, l.ep, l.metricsURL, p)
	l.s.parsers.Put(p) // Not deferred: a parser that panicked is dropped.
	if ctx.Err() != nil {
		return // Stopping; the error, if any, is ours.
	}
	now := time.Now()
	switch {
	case err != nil:
		if l.failures == 0 {
			l.logger.Warn("model server scrape failing", slog.Any("err", err))
		}
		l.failures++
	case l.failures > 0:
		l.logger.Info("model server scrape recovered", slog.Int("failed_scrapes", l.failures))
		l.failures = 0
		l.nextModels = now // The server may have restarted with other models.
	}

	if now.Before(l.nextModels) {
		return
	}
	err = l.s.scrapeModels(ctx, l.ep, l.modelsURL)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		if !l.modelsFailing {
			l.logger.Warn("model server model list failing", slog.Any("err", err))
		}
		l.modelsFailing = true
		l.nextModels = now.Add(min(10*l.s.interval, l.s.modelsInterval))
		return
	}
	if l.modelsFailing {
		l.logger.Info("model server model list recovered")
		l.modelsFailing = false
	}
	l.nextModels = now.Add(l.s.modelsInterval)
}
