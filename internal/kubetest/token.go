package kubetest

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// tokenWait bounds how long WaitForToken waits for the token controller.
const tokenWait = 30 * time.Second

// WaitForToken polls the kubernetes.io/service-account-token Secret
// namespace/name until the token controller has filled its token (and CA),
// and returns the token. It gives up after 30 s or when ctx ends.
func WaitForToken(ctx context.Context, cs kubernetes.Interface, namespace, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := cs.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			tok := s.Data[corev1.ServiceAccountTokenKey]
			if len(tok) > 0 && len(s.Data[corev1.ServiceAccountRootCAKey]) > 0 {
				return string(tok), nil
			}
			err = errors.New("token not filled yet")
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for the token of secret %s/%s: %w", namespace, name, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}
