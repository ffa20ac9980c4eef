package envoystandin_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/envoystandin"
)

// A benchmark or an end-to-end picker test points the stand-in at the picker,
// sends OpenAI requests to it and reads the per-request results.
func ExampleNew() {
	var (
		mu        sync.Mutex
		decisions []time.Duration
	)
	s, err := envoystandin.New(envoystandin.Config{
		ExtProcAddr:    "127.0.0.1:9002", // the picker's ext_proc listener
		Plaintext:      true,
		MessageTimeout: time.Second,
		OnResult: func(r envoystandin.Result) {
			mu.Lock()
			decisions = append(decisions, r.DecisionLatency)
			mu.Unlock()
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/completions", strings.NewReader(`{"model":"m","prompt":"hi"}`))
	// Restrict the picker to two endpoints, as a gateway's subset hint would.
	req.Header.Set(envoystandin.SubsetHeader, "10.0.0.1:8000,10.0.0.2:8000")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
	}
	st := s.Stats()
	fmt.Println(st.Requests, st.Forwarded)
}
