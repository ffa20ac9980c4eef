package connlimit

import "net"

// listener counts the connections it accepts.
type listener struct {
	net.Listener
	l *Limiter
}

// Accept waits for a connection the limits let in.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := ln.l.admit(c); lc != nil {
			return lc, nil
		}
	}
}
