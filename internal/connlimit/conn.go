package connlimit

import "net"

// conn is an accepted connection counted by a Limiter.
type conn struct {
	net.Conn
	l    *Limiter
	key  string // client address
	over bool   // accepted past the limits; set before the conn is served

	released bool // guarded by l.mu
}

// Close uncounts the connection and closes it.
func (c *conn) Close() error {
	c.l.release(c)
	return c.Conn.Close()
}

// unwrap finds the counted connection under c, which may be wrapped (a
// *tls.Conn wraps it); nil when there is none.
func unwrap(c net.Conn) *conn {
	for range 8 {
		switch v := c.(type) {
		case *conn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
