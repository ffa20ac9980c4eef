// Command infergate is an inference gateway for LLM model servers: a native
// OpenAI proxy, a model-server simulator and a demo in one binary. Run
// "infergate --help" for the subcommands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "infergate:", err)
		os.Exit(1)
	}
}
