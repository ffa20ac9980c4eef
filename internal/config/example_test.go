package config_test

import (
	"fmt"

	"github.com/infergate/infergate/internal/config"
)

func ExampleParse() {
	c, err := config.Parse([]byte(`
pools:
  - name: llama
    endpoints:
      - address: 127.0.0.1:8001
      - address: 127.0.0.1:8002
objectives:
  - {name: batch, priority: -1}
models:
  - name: meta-llama/Llama-3.1-8B-Instruct
    objective: batch
metrics:
  auth: {tokenFile: /etc/infergate/metrics-token}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := c.Models[0]
	prio, _ := c.ObjectivePriority(m.Objective)
	fmt.Println(c.Listen, c.Pools[0].Endpoints[1].Name, c.Pools[0].Endpoints[1].Engine)
	fmt.Println(m.Pool, m.Objective, prio)
	fmt.Println(c.Scrape.Interval, c.Upstream.Retries(), c.Scheduler.Weights.PrefixWeight())
	// Output:
	// :8080 127.0.0.1:8002 vllm
	// llama batch -1
	// 50ms 2 3
}

func ExampleConfig_Validate() {
	c := config.Default()
	c.Pools = []config.Pool{{Name: "p", Endpoints: []config.Endpoint{{Address: "localhost"}}}}
	c.Scheduler.KVCacheThreshold = 2
	c.ApplyDefaults()
	fmt.Println(c.Validate())
	// Output:
	// pools[0].endpoints[0].address: "localhost" is not host:port
	// scheduler.kvCacheThreshold: must be in (0, 1], got 2
	// metrics.auth.tokenFile: is required when metrics.auth.enabled is true
}
