// Package testlog is a log sink for tests: a buffer that slog handlers (and
// the code under test's goroutines) may write to concurrently while the test
// reads it.
package testlog

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects log output; the zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count returns how many times s occurs in what was written.
func (b *Buffer) Count(s string) int {
	return strings.Count(b.String(), s)
}
