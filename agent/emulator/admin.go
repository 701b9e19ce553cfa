package emulator

import (
	"net/http"
)

// admin answers the emulator's own endpoints under /_emulator/:
//
//	GET  /_emulator/stats                  request counters (Stats as JSON)
//	POST /_emulator/reset                  Reset; answers 204
//	GET  /_emulator/ca.pem                 the CA certificate
//	GET  /_emulator/federated-token?sp=N   a workload-identity token for service principal N
//	GET  /_emulator/health                 "ok"
//
// Admin requests are not counted in Stats and get no added latency.
func (e *Emulator) admin(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w}
	want := http.MethodGet
	if r.URL.Path == "/_emulator/reset" {
		want = http.MethodPost
	}
	if r.Method != want {
		x.header().Set("Allow", want)
		x.text(http.StatusMethodNotAllowed, "agent emulator: "+r.URL.Path+" accepts "+want+" only")
		return
	}
	switch r.URL.Path {
	case "/_emulator/stats":
		x.json(http.StatusOK, e.Stats())
	case "/_emulator/reset":
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "/_emulator/ca.pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(e.ca.pem)
	case "/_emulator/federated-token":
		token, err := e.FederatedToken(r.URL.Query().Get("sp"))
		if err != nil {
			x.text(http.StatusNotFound, "agent emulator: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		_, _ = w.Write([]byte(token))
	case "/_emulator/health":
		x.text(http.StatusOK, "ok")
	}
}
