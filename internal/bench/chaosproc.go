package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// chaosProc is a child process of the chaos suite (a replica or the
// gateway): started, signalled, stopped and restarted by the schedule.
type chaosProc struct {
	name   string
	args   []string
	bin    string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// start runs the process and waits until health answers 200.
func (p *chaosProc) start(health string) error {
	p.cmd = exec.Command(p.bin, p.args...)
	p.log = new(syncBuffer)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	dieWithParent(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.exited = make(chan struct{})
	cmd, exited := p.cmd, p.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitHealthy(health, p.exited, 20*time.Second); err != nil {
		p.kill()
		return fmt.Errorf("%s: %w; output:\n%s", p.name, err, tail(p.log.Bytes(), 2048))
	}
	return nil
}

// signal sends sig to the running process.
func (p *chaosProc) signal(sig syscall.Signal) {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill kills the process and waits for it to exit.
func (p *chaosProc) kill() {
	if p.cmd == nil {
		return
	}
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to exit (SIGTERM; SIGKILL after grace) and waits.
func (p *chaosProc) stop(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.kill()
	}
}

// pid returns the process id.
func (p *chaosProc) pid() int { return p.cmd.Process.Pid }

// waitHealthy polls url until it answers 200, the process exits or the
// timeout passes.
func waitHealthy(url string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("exited before it was healthy")
		case <-ctx.Done():
			return fmt.Errorf("not healthy at %s after %v", url, timeout)
		case <-tick.C:
		}
	}
}
