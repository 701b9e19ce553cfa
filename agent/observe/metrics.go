package observe

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// SecretInfo describes the version of one secret in use: never its value.
type SecretInfo struct {
	Name    string // the manifest's name for the reference
	Vault   string // the manifest's vault name
	Version string
	Created time.Time
	Expires *time.Time
}

// Metrics holds the agent's Prometheus metrics in a registry of its own.
// Its methods are safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	checks       prometheus.Counter
	checkErrors  prometheus.Counter
	kvRequests   *prometheus.CounterVec
	lastSuccess  prometheus.Gauge
	ready        prometheus.Gauge
	filesWritten prometheus.Counter
	restores     prometheus.Counter
	commands     *prometheus.CounterVec
	reloads      *prometheus.CounterVec
	secrets      *secretCollector
}

// New returns Metrics; now is the clock for version ages (nil: time.Now).
func New(now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		checks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agent_checks_total", Help: "Checks for new secret versions."}),
		checkErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agent_check_errors_total", Help: "Checks for new secret versions that failed."}),
		kvRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agent_keyvault_requests_total", Help: "HTTP attempts to Key Vault by operation and status code (0: no response)."},
			[]string{"operation", "code"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agent_last_success_timestamp_seconds", Help: "Unix time of the end of the last successful check or render."}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "agent_ready", Help: "1 when the agent is ready (/readyz answers 200)."}),
		filesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agent_files_written_total", Help: "Files rewritten because their content changed."}),
		restores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agent_file_restores_total", Help: "Rendered files restored after being deleted or altered."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agent_onchange_commands_total", Help: "onChange commands run, by result."}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agent_reloads_total", Help: "Manifest reloads, by result."}, []string{"result"}),
		secrets: newSecretCollector(now),
	}
	m.reg.MustRegister(m.checks, m.checkErrors, m.kvRequests, m.lastSuccess, m.ready, m.filesWritten,
		m.restores, m.commands, m.reloads, m.secrets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"ok", "failed"} {
		m.commands.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "invalid"} {
		m.reloads.WithLabelValues(r)
	}
	return m
}

// Registry returns the registry behind Handler, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// CheckDone counts a check; at is when a successful one ended.
func (m *Metrics) CheckDone(ok bool, at time.Time) {
	m.checks.Inc()
	if !ok {
		m.checkErrors.Inc()
		return
	}
	m.Succeeded(at)
}

// Succeeded records a successful render or check ending at at.
func (m *Metrics) Succeeded(at time.Time) {
	m.lastSuccess.Set(float64(at.UnixNano()) / 1e9)
}

// KeyVaultRequest counts one HTTP attempt to Key Vault; it has the shape
// of keyvault.ObserveFunc.
func (m *Metrics) KeyVaultRequest(op string, status int) {
	m.kvRequests.WithLabelValues(op, strconv.Itoa(status)).Inc()
}

// SetReady records readiness.
func (m *Metrics) SetReady(ready bool) {
	if ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}

// FilesWritten counts n rewritten files.
func (m *Metrics) FilesWritten(n int) { m.filesWritten.Add(float64(n)) }

// Restored counts one restored file.
func (m *Metrics) Restored() { m.restores.Inc() }

// Command counts one onChange command.
func (m *Metrics) Command(ok bool) {
	if ok {
		m.commands.WithLabelValues("ok").Inc()
	} else {
		m.commands.WithLabelValues("failed").Inc()
	}
}

// Reload counts one manifest reload.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("invalid").Inc()
	}
}

// SetSecrets replaces the secrets whose version age and expiry are
// exported.
func (m *Metrics) SetSecrets(infos []SecretInfo) { m.secrets.set(infos) }

// secretCollector exports each secret's version age (computed when
// scraped) and expiry.
type secretCollector struct {
	now              func() time.Time
	ageDesc, expDesc *prometheus.Desc

	mu    sync.Mutex
	infos []SecretInfo
}

func newSecretCollector(now func() time.Time) *secretCollector {
	return &secretCollector{
		now: now,
		ageDesc: prometheus.NewDesc("agent_secret_version_age_seconds",
			"Age of the secret version in use, since Key Vault created it.", []string{"secret", "vault"}, nil),
		expDesc: prometheus.NewDesc("agent_secret_expiry_timestamp_seconds",
			"Unix time the secret version in use expires (only versions with an expiry).", []string{"secret", "vault"}, nil),
	}
}

func (c *secretCollector) set(infos []SecretInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.infos = append([]SecretInfo(nil), infos...)
}

func (c *secretCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ageDesc
	ch <- c.expDesc
}

func (c *secretCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, s := range c.infos {
		if !s.Created.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.ageDesc, prometheus.GaugeValue, now.Sub(s.Created).Seconds(), s.Name, s.Vault)
		}
		if s.Expires != nil {
			ch <- prometheus.MustNewConstMetric(c.expDesc, prometheus.GaugeValue, float64(s.Expires.Unix()), s.Name, s.Vault)
		}
	}
}
