package kube

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/kubetest"
)

func TestMain(m *testing.M) {
	opts := append(kubetest.GoleakOptions(), goleak.Cleanup(func(code int) {
		for _, remove := range binCleanups {
			remove()
		}
		os.Exit(code)
	}))
	goleak.VerifyTestMain(m, opts...)
}
