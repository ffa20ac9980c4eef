// Package recovery turns a panic in an HTTP handler into an answer, an
// ERROR log line with the stack and a counted metric, instead of a closed
// connection that net/http reports only on its own error log.
//
// Wrap every listener's root handler with [Handler]. A panic before the
// response started is answered with a 500 in the OpenAI error shape; after
// it started, the connection is aborted (the client sees a truncated
// response, as it would from any broken upstream). http.ErrAbortHandler, the
// sentinel handlers use to abort on purpose, passes through untouched.
package recovery
