// Command agent puts Azure Key Vault secrets where programs expect them.
// See the README and `agent --help`.
package main

import (
	"os"

	"github.com/kv-agent/agent/agent"
)

func main() { os.Exit(agent.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
