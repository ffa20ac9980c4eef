package controller

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"

	"github.com/infergate/infergate/internal/config"
)

func catalogOf(pools ...string) config.Catalog {
	var c config.Catalog
	for _, p := range pools {
		c.Pools = append(c.Pools, config.Pool{Name: p, Endpoints: []config.Endpoint{{Name: p + "-0", Address: "10.0.0.1:80"}}})
	}
	return c
}

func TestPublisher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []config.Catalog
		release := make(chan struct{})
		blocking := false
		publish := func(c config.Catalog) {
			got = append(got, c)
			if blocking {
				<-release
			}
			// The receiver owns its catalog and may change it.
			if len(c.Pools) > 0 {
				c.Pools[0].Endpoints[0].Address = "scribbled"
			}
		}
		p := newPublisher()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.run(ctx, publish)
		}()

		synctest.Wait()
		select {
		case <-p.synced:
			t.Fatal("synced before the first publication")
		default:
		}

		p.offer(catalogOf("a"))
		synctest.Wait()
		select {
		case <-p.synced:
		default:
			t.Fatal("not synced after the first publication")
		}

		// Equal to the last delivered (even though the receiver scribbled
		// on its copy): dropped.
		p.offer(catalogOf("a"))
		synctest.Wait()

		// A burst while Publish is busy: only the latest is delivered.
		blocking = true
		p.offer(catalogOf("b"))
		synctest.Wait() // Publish("b") is blocked
		p.offer(catalogOf("c"))
		p.offer(catalogOf("d"))
		p.offer(catalogOf("e"))
		blocking = false
		close(release)
		synctest.Wait()

		// A change and back again before delivery: nothing new.
		blocking = true
		release = make(chan struct{})
		p.offer(catalogOf("f"))
		synctest.Wait() // Publish("f") is blocked
		p.offer(catalogOf("g"))
		p.offer(catalogOf("f"))
		blocking = false
		close(release)
		synctest.Wait()

		cancel()
		<-done

		scribbled := catalogOf("a")
		scribbled.Pools[0].Endpoints[0].Address = "scribbled"
		want := []config.Catalog{scribbled, catalogOf("b"), catalogOf("e"), catalogOf("f")}
		for i := range want[1:] {
			want[i+1].Pools[0].Endpoints[0].Address = "scribbled"
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("published (-want +got):\n%s", diff)
		}
	})
}
