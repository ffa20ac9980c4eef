// Package connlimit bounds the connections a server keeps open, per client
// address and in total.
//
// A [Limiter] wraps the raw TCP listener (below any TLS layer) and follows
// each connection's HTTP state through the server's ConnState hook. When a
// new connection would pass its address's limit (or the global one), the
// Limiter first closes one of that address's idle keep-alive connections (for
// the global limit, any address's). When none is idle the connection is still
// accepted, but marked over the limit: [OverLimit] reports it to the handler,
// which answers its first request 503 and closes it. Over-limit connections
// are themselves capped at the same limits; past twice the limits a new
// connection is closed at once, unanswered. Nothing runs in the background:
// all work happens in Accept, the hooks and Close.
package connlimit
