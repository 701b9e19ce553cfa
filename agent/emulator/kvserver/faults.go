package kvserver

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// throttle answers 429 Throttled, with Retry-After when the vault's limit
// sets one.
func (s *Server) throttle(c *call) {
	if ra := c.vault.limit.RetryAfter; ra > 0 {
		c.w.Header()["Retry-After"] = []string{strconv.FormatInt(int64((ra+time.Second-1)/time.Second), 10)}
	}
	s.fail(c, errThrottled())
}

// injectFault answers the request with a fault with the vault's
// probability and reports whether it did.
func (s *Server) injectFault(c *call) bool {
	rate := c.vault.faultRate
	if rate <= 0 {
		return false
	}
	s.rngMu.Lock()
	hit := s.rng.Float64() < rate
	kind := ""
	if hit {
		kind = c.vault.faultKinds[s.rng.IntN(len(c.vault.faultKinds))]
	}
	s.rngMu.Unlock()
	if !hit {
		return false
	}
	switch kind {
	case "500":
		s.fail(c, apiError{status: http.StatusInternalServerError, code: "InternalServerError",
			message: "The server encountered an internal error. Please retry the request."})
	case "503":
		s.fail(c, apiError{status: http.StatusServiceUnavailable, code: "ServiceUnavailable",
			message: "The service is temporarily unavailable. Please retry the request."})
	case "429":
		s.throttle(c)
	default: // "reset"
		s.reset(c)
	}
	return true
}

// reset closes the client connection abruptly: the TCP connection is closed
// with SO_LINGER 0 so that the peer sees a RST. Where the connection cannot
// be taken over (HTTP/2), the stream is aborted instead.
func (s *Server) reset(c *call) {
	s.finish(c, 0)
	conn, _, err := http.NewResponseController(c.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // net/http aborts the stream quietly
	}
	raw := unwrapConn(conn)
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // best effort: a plain close still fails the request
	}
	_ = raw.Close() // nothing to do if already closed
}

// unwrapConn finds the transport connection under TLS layers (anything
// with a NetConn method, such as *tls.Conn).
func unwrapConn(c net.Conn) net.Conn {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		inner := u.NetConn()
		if inner == nil || inner == c {
			return c
		}
		c = inner
	}
}
