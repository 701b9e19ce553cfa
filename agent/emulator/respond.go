package emulator

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// exchange is one request being answered by an emulator handler: it
// records the status and who asked, for Stats and the debug log.
type exchange struct {
	w        http.ResponseWriter
	kind     string
	identity string
	status   int
}

func (x *exchange) header() http.Header { return x.w.Header() }

// json writes v as the body with status.
func (x *exchange) json(status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	x.w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	x.w.WriteHeader(status)
	x.status = status
	_, _ = x.w.Write(body)
}

// text writes a plain-text body.
func (x *exchange) text(status int, msg string) {
	x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	x.w.Header().Set("X-Content-Type-Options", "nosniff")
	x.w.WriteHeader(status)
	x.status = status
	_, _ = fmt.Fprintln(x.w, msg)
}

// reset closes the client's connection with a TCP RST (SO_LINGER 0), as a
// host where nothing listens or a crashing server would. The status
// recorded is 0.
func (x *exchange) reset() {
	x.status = 0
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		return
	}
	resetConn(conn)
}

func resetConn(conn net.Conn) {
	if tc, ok := underlyingTCP(conn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// underlyingTCP finds the TCP connection below TLS and our wrappers.
func underlyingTCP(conn net.Conn) (*net.TCPConn, bool) {
	for {
		switch c := conn.(type) {
		case *net.TCPConn:
			return c, true
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		default:
			return nil, false
		}
	}
}

// bufferedConn is a hijacked connection whose reader may hold bytes
// already read by the HTTP server.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *bufferedConn) NetConn() net.Conn          { return c.Conn }

// newUUID returns a random version-4 UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// sleep waits d or until the request is cancelled.
func sleep(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}
