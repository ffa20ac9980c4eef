package bench

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"testing"

	"github.com/spf13/pflag"
	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/envoystandin"
	"github.com/infergate/infergate/internal/gateway"
)

// gatewayEnv, when set, makes the test binary act as `infergate serve
// --config $gatewayEnv`, so tests can run the benchmark's gateway as a child
// process (and measure it) without building the infergate binary.
const gatewayEnv = "INFERGATE_BENCH_TEST_GATEWAY"

// standInEnv, when set, makes the test binary act as `infergate
// envoy-standin` with the flags after "--", so tests can run the Envoy
// stand-in as a child process.
const standInEnv = "INFERGATE_BENCH_TEST_STANDIN"

func TestMain(m *testing.M) {
	if path := os.Getenv(gatewayEnv); path != "" {
		os.Exit(serveGateway(path))
	}
	if os.Getenv(standInEnv) != "" {
		os.Exit(serveStandIn(os.Args[1:]))
	}
	if os.Getenv(dyingParentEnv) != "" {
		os.Exit(runDyingParent())
	}
	goleak.VerifyTestMain(m)
}

// serveGateway runs the gateway from the config file at path until SIGTERM.
func serveGateway(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gw, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := gw.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// serveStandIn runs the Envoy stand-in configured by the flags in args
// after "--" until SIGTERM.
func serveStandIn(args []string) int {
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[i+1:]
	}
	var cfg envoystandin.Config
	fs := pflag.NewFlagSet("envoy-standin", pflag.ContinueOnError)
	cfg.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := envoystandin.Serve(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
