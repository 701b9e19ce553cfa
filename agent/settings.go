package agent

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Settings are the agent's own settings. They come from AGENT_* environment
// variables; command-line flags override them. An invalid value is an error,
// never a silent default.
type Settings struct {
	// Manifest is the manifest path (AGENT_MANIFEST; default ./agent.yaml).
	Manifest string `env:"AGENT_MANIFEST"`
	// Timeout bounds a whole one-shot run: credentials, every fetch, every write (AGENT_TIMEOUT).
	Timeout time.Duration `env:"AGENT_TIMEOUT" envDefault:"2m"`
	// LogLevel is debug, info, warn or error (AGENT_LOG_LEVEL).
	LogLevel string `env:"AGENT_LOG_LEVEL" envDefault:"info"`
	// LogFormat is text or json (AGENT_LOG_FORMAT).
	LogFormat string `env:"AGENT_LOG_FORMAT" envDefault:"text"`
	// Concurrency is the most requests in flight to one vault (AGENT_CONCURRENCY).
	Concurrency int `env:"AGENT_CONCURRENCY" envDefault:"16"`
	// IMDSProbeTimeout bounds the probe for IMDS in the auto identity (AGENT_IMDS_PROBE_TIMEOUT).
	IMDSProbeTimeout time.Duration `env:"AGENT_IMDS_PROBE_TIMEOUT" envDefault:"1s"`
	// Emulator, when set, is a seed file: the agent starts an in-process
	// emulator from it and talks only to that (AGENT_EMULATOR).
	Emulator string `env:"AGENT_EMULATOR"`
}

// loadSettings reads Settings from environ (KEY=VALUE entries).
func loadSettings(environ []string) (Settings, error) {
	var s Settings
	err := env.ParseWithOptions(&s, env.Options{Environment: envMap(environ)})
	if err != nil {
		return s, &ExitError{Code: ExitUsage, Err: settingsError(err)}
	}
	return s, nil
}

// settingsError rewrites env's errors to name the variable, not the field.
func settingsError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("invalid environment setting: %w", err)
	}
	vars := map[string]string{}
	t := reflect.TypeOf(Settings{})
	for i := 0; i < t.NumField(); i++ {
		vars[t.Field(i).Name] = t.Field(i).Tag.Get("env")
	}
	var lines []string
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			lines = append(lines, fmt.Sprintf("invalid %s: %v", vars[pe.Name], pe.Err))
			continue
		}
		lines = append(lines, e.Error())
	}
	return errors.New(strings.Join(lines, "\n"))
}

// validate checks the settings once every layer (env, flags) is applied.
func (s *Settings) validate() error {
	var problems []string
	if s.Timeout <= 0 {
		problems = append(problems, fmt.Sprintf("timeout %s must be positive (AGENT_TIMEOUT or --timeout)", s.Timeout))
	}
	if _, err := parseLevel(s.LogLevel); err != nil {
		problems = append(problems, err.Error()+" (AGENT_LOG_LEVEL or --log-level)")
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("log format %q must be text or json (AGENT_LOG_FORMAT or --log-format)", s.LogFormat))
	}
	if s.Concurrency < 1 || s.Concurrency > 256 {
		problems = append(problems, fmt.Sprintf("concurrency %d must be between 1 and 256 (AGENT_CONCURRENCY)", s.Concurrency))
	}
	if s.IMDSProbeTimeout <= 0 {
		problems = append(problems, fmt.Sprintf("IMDS probe timeout %s must be positive (AGENT_IMDS_PROBE_TIMEOUT)", s.IMDSProbeTimeout))
	}
	if len(problems) > 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s", strings.Join(problems, "\n"))}
	}
	return nil
}

func (s *Settings) manifestPath() string {
	if s.Manifest != "" {
		return s.Manifest
	}
	return "agent.yaml"
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q must be debug, info, warn or error", s)
}

// newLogger returns the agent's logger writing to w. Values are never
// passed to it; see the leak tests.
func (s *Settings) newLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(s.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func envMap(environ []string) envLookup {
	m := make(envLookup, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
