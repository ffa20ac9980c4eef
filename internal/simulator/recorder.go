package simulator

import "time"

// recorder receives the engine's events and turns them into one engine's
// metric families ([vllmMetrics] or [sglangMetrics]). Durations are model
// time. The engine goroutine is the only caller.
type recorder interface {
	// admitted is called when a request is scheduled for the first time,
	// with the prompt tokens found in the prefix cache.
	admitted(r *request, cachedTokens int)
	// firstToken is called when a request produced its first token.
	firstToken(r *request)
	// nextToken is called for every later token with the time since the
	// request's previous token.
	nextToken(itl time.Duration)
	// preempted is called when a running request is evicted to the waiting
	// queue.
	preempted()
	// finished is called when a request completed (reason stop or length) or
	// was aborted (reason abort).
	finished(r *request, reason string)
	// state is called after every step with the engine's current load.
	state(s engineState)
}

// engineState is the load the gauges report.
type engineState struct {
	running, waiting int
	usedBlocks       int
	// adaptersChanged is set when the adapter lists may have changed since
	// the last call; runningAdapters and waitingAdapters (comma-joined,
	// sorted adapter names without spaces) are filled only then.
	adaptersChanged                  bool
	runningAdapters, waitingAdapters string
}
