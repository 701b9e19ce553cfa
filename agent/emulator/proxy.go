package emulator

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Hosts the proxy terminates TLS for. Everything else is refused.
var (
	loginHosts = map[string]bool{
		"login.microsoftonline.com":        true,
		"login.chinacloudapi.cn":           true,
		"login.partner.microsoftonline.cn": true,
		"login.microsoftonline.us":         true,
	}
	vaultSuffixes = []string{"vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net"}
)

const imdsHost = "169.254.169.254"

// isVaultHost reports whether host is <vault>.<suffix> for a served suffix.
func isVaultHost(host string) bool {
	label, suffix, ok := strings.Cut(host, ".")
	return ok && contains(vaultSuffixes, suffix) && isVaultName(label)
}

// servesTLS reports whether CONNECT to host is answered by the emulator.
func servesTLS(host string) bool {
	return loginHosts[host] || isVaultHost(host)
}

// serveFront answers everything that reaches the listener: CONNECT
// tunnels, absolute-form proxy requests and the emulator's own endpoints.
func (e *Emulator) serveFront(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		e.connect(w, r)
	case r.URL.Host != "":
		e.absolute(w, r)
	default:
		e.origin(w, r)
	}
}

// connect answers CONNECT host:443 for Azure hosts with a TLS tunnel that
// ends here; the decrypted requests go to the inner server.
func (e *Emulator) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if err != nil || port != "443" || !servesTLS(host) {
		e.refuse(w, r, r.Host)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		e.log.Warn("hijack connect", "host", host, "error", err)
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		_ = conn.Close()
		return
	}
	var raw net.Conn = conn
	if brw.Reader.Buffered() > 0 {
		raw = &bufferedConn{Conn: conn, r: brw.Reader}
	}
	e.log.Debug("tunnel", "host", host)
	e.tunnels.push(tls.Server(raw, e.ca.serverConfig(host)))
}

// absolute answers absolute-form requests (a client using us as its
// HTTP_PROXY): IMDS, and our own endpoints when a client proxies even
// loopback URLs.
func (e *Emulator) absolute(w http.ResponseWriter, r *http.Request) {
	host, port := r.URL.Hostname(), r.URL.Port()
	switch {
	case r.URL.Scheme == "http" && host == imdsHost && (port == "" || port == "80"):
		e.handle(KindIMDS, e.imds)(w, r)
	case r.URL.Scheme == "http" && e.isSelf(host, port):
		e.origin(w, r)
	default:
		e.refuse(w, r, r.URL.Host)
	}
}

// isSelf reports whether host:port is the emulator's own listener.
func (e *Emulator) isSelf(host, port string) bool {
	_, own, _ := net.SplitHostPort(e.addr)
	if port != own {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// refuse answers 502 for a destination the emulator does not serve.
func (e *Emulator) refuse(w http.ResponseWriter, r *http.Request, dest string) {
	e.handle(KindRefused, func(x *exchange, r *http.Request) {
		e.log.Info("refused destination", "method", r.Method, "host", dest)
		x.text(http.StatusBadGateway, fmt.Sprintf("agent emulator: refusing %s %s: only Azure login hosts (%s), "+
			"Key Vault hosts (<vault>.%s) on port 443 and IMDS (http://%s) are emulated; nothing is forwarded to a network",
			r.Method, dest, strings.Join(sortedKeys(loginHosts), ", "), strings.Join(vaultSuffixes, "|"), imdsHost))
	})(w, r)
}

// origin answers requests addressed to the emulator itself.
func (e *Emulator) origin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case appServicePath:
		e.handle(KindAppService, e.appService)(w, r)
	case "/_emulator/stats", "/_emulator/reset", "/_emulator/ca.pem", "/_emulator/federated-token", "/_emulator/health":
		e.admin(w, r)
	default:
		x := &exchange{w: w}
		x.text(http.StatusNotFound, "agent emulator: no such endpoint "+r.URL.Path+
			" (this listener is an HTTP proxy for Azure hosts; admin endpoints are under /_emulator/)")
	}
}

// serveAzure answers requests decrypted from a tunnel, by host.
func (e *Emulator) serveAzure(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch {
	case loginHosts[host]:
		e.handle(KindEntraOther, e.entra)(w, r)
	case isVaultHost(host):
		sleep(r, e.latency)
		e.kv.ServeHTTP(w, r)
	default:
		x := &exchange{w: w}
		x.text(http.StatusMisdirectedRequest, "agent emulator: host "+host+" is not served on this tunnel")
	}
}

// handle wraps an emulator handler with latency, stats and a debug log
// line (method, host, path and status only: never headers, query or body).
func (e *Emulator) handle(kind string, h func(*exchange, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sleep(r, e.latency)
		x := &exchange{w: w, kind: kind}
		h(x, r)
		e.stats.add(x.kind, "", x.identity, x.status)
		e.log.Debug("request", "kind", x.kind, "method", r.Method, "host", r.Host, "path", r.URL.Path,
			"status", x.status, "identity", x.identity)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// connQueue is a net.Listener whose connections are pushed by connect.
type connQueue struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{conns: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (q *connQueue) push(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		_ = c.Close()
	}
}

// Accept returns the next tunnelled connection.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; connections pushed afterwards are closed.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr returns the proxy's address.
func (q *connQueue) Addr() net.Addr { return q.addr }
