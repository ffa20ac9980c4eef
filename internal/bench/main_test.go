package bench

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/config"
	"github.com/infergate/infergate/internal/gateway"
)

// gatewayEnv, when set, makes the test binary act as `infergate serve
// --config $gatewayEnv`, so tests can run the benchmark's gateway as a child
// process (and measure it) without building the infergate binary.
const gatewayEnv = "INFERGATE_BENCH_TEST_GATEWAY"

func TestMain(m *testing.M) {
	if path := os.Getenv(gatewayEnv); path != "" {
		os.Exit(serveGateway(path))
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
