package auth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRateLog(t *testing.T) {
	var buf bytes.Buffer
	clock := newFakeClock()
	l := newRateLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), clock.Now)
	ctx := context.Background()
	for range 100 {
		l.log(ctx, "invalid", slog.LevelInfo, "rejected")
	}
	l.log(ctx, "throttled", slog.LevelWarn, "throttled")
	l.log(ctx, "missing", slog.LevelDebug, "not enabled")
	clock.Advance(999 * time.Millisecond)
	l.log(ctx, "invalid", slog.LevelInfo, "rejected")
	clock.Advance(time.Millisecond)
	l.log(ctx, "invalid", slog.LevelInfo, "rejected again")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (one per key, then one after a second):\n%s", len(lines), buf.String())
	}
	if strings.Contains(lines[0], "suppressed") || !strings.Contains(lines[1], "msg=throttled") {
		t.Errorf("first lines wrong:\n%s", buf.String())
	}
	if !strings.Contains(lines[2], `msg="rejected again"`) || !strings.Contains(lines[2], "suppressed=100") {
		t.Errorf("third line %q, want the next record with suppressed=100", lines[2])
	}
}
