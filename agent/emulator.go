package agent

import (
	"context"

	"github.com/kv-agent/agent/agent/emulator"
)

func cmdEmulator(ctx context.Context, inv *invocation, args []string) error {
	code := emulator.RunCommand(ctx, args, inv.stdout, inv.stderr)
	if code == ExitOK {
		return nil
	}
	return &ExitError{Code: code, Err: errSilent}
}
