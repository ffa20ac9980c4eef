package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/infergate/infergate/internal/simulator"
)

// fleet is a set of identical simulated replicas served in this process on
// loopback. Each run gets a fresh fleet, so every strategy starts with cold
// caches.
type fleet struct {
	addrs  []string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
}

// simProfile returns the simulator profile of f.
func simProfile(f Fleet) simulator.Profile {
	p := simulator.DefaultProfile()
	if f.Profile == ProfileInstant {
		p.Name = "instant"
		p.StepTime = time.Microsecond
		p.PrefillTokenTime, p.DecodeSeqTime, p.ContextTokenTime, p.LoRALoadTime = 0, 0, 0, 0
		p.MaxNumBatchedTokens = 1 << 20
		p.NumGPUBlocks = 200_000
		p.MaxNumSeqs = 1024
	}
	if f.NumGPUBlocks > 0 {
		p.NumGPUBlocks = f.NumGPUBlocks
	}
	if f.MaxNumSeqs > 0 {
		p.MaxNumSeqs = f.MaxNumSeqs
	}
	if f.MaxLoRAs > 0 {
		p.MaxLoRAs = f.MaxLoRAs
	}
	if f.LoRALoadTime.Duration > 0 {
		p.LoRALoadTime = f.LoRALoadTime.Duration
	}
	// The profile's context length must fit its cache (the simulator
	// validates it): a small benchmark cache caps the context length.
	p.MaxModelLen = min(p.MaxModelLen, p.NumGPUBlocks*p.BlockSize)
	return p
}

// startFleet starts f.Replicas simulators running timeScale times faster
// than real time. Stop them with stop.
func startFleet(f Fleet, timeScale float64, seed int64) (*fleet, error) {
	ctx, cancel := context.WithCancel(context.Background())
	fl := &fleet{cancel: cancel, errs: make(chan error, f.Replicas)}
	profile := simProfile(f)
	adapters := adapterNames(f.Adapters)
	for i := range f.Replicas {
		cfg := simulator.DefaultConfig()
		cfg.Name = fmt.Sprintf("sim-%d", i)
		cfg.Model = BaseModel
		cfg.LoRAs = adapters
		cfg.Profile = profile
		cfg.TimeScale = timeScale
		cfg.Seed = seed + int64(i)
		cfg.ShutdownTimeout = 200 * time.Millisecond
		srv, err := simulator.New(cfg, nil)
		if err != nil {
			fl.stop()
			return nil, fmt.Errorf("start replica %s: %w", cfg.Name, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fl.stop()
			return nil, fmt.Errorf("start replica %s: %w", cfg.Name, err)
		}
		fl.addrs = append(fl.addrs, ln.Addr().String())
		fl.wg.Go(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				fl.errs <- err
			}
		})
	}
	return fl, nil
}

// stop shuts every replica down and waits for them.
func (fl *fleet) stop() error {
	fl.cancel()
	fl.wg.Wait()
	close(fl.errs)
	var errs []error
	for err := range fl.errs {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
