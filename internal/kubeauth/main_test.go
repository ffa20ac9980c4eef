package kubeauth

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/infergate/infergate/internal/kubetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kubetest.GoleakOptions()...)
}
