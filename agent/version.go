package agent

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X github.com/kv-agent/agent/agent.version=v1.2.3";
// otherwise it comes from the module's build information.
var version = ""

func agentVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel+" + s.Value[:12]
			}
		}
	}
	return "devel"
}

func cmdVersion(ctx context.Context, inv *invocation, args []string) error {
	fs := newFlagSet(inv, "version", "agent version", "  agent version\n")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(inv.stdout, "agent %s %s/%s %s\n", agentVersion(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}
