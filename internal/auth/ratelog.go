package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// rateLogInterval is the least time between two log lines of one key.
const rateLogInterval = time.Second

// rateLog writes at most one record per key (a failure reason, from a fixed
// set) per [rateLogInterval]; the next record written for a key says how
// many were dropped since the last one (attribute "suppressed"). Safe for
// concurrent use.
type rateLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*rateLogKey
}

// rateLogKey is the state of one key.
type rateLogKey struct {
	last       time.Time
	suppressed int
}

// newRateLog returns a rateLog writing to logger with the clock now.
func newRateLog(logger *slog.Logger, now func() time.Time) *rateLog {
	return &rateLog{logger: logger, now: now, keys: make(map[string]*rateLogKey)}
}

// log writes the record unless one was written for key less than
// [rateLogInterval] ago, in which case it only counts it. Records at a
// disabled level are neither written nor counted.
func (l *rateLog) log(ctx context.Context, key string, level slog.Level, msg string, attrs ...slog.Attr) {
	if !l.logger.Enabled(ctx, level) {
		return
	}
	l.mu.Lock()
	now := l.now()
	k := l.keys[key]
	if k == nil {
		k = &rateLogKey{}
		l.keys[key] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < rateLogInterval {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	k.last = now
	suppressed := k.suppressed
	k.suppressed = 0
	l.mu.Unlock()
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	l.logger.LogAttrs(ctx, level, msg, attrs...)
}
