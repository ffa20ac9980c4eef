package proctest

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds how long [Start] waits for the readiness line.
const ReadyTimeout = 60 * time.Second

// Proc is a running child process with its output (stdout and stderr,
// interleaved) captured.
type Proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

// Start runs bin with args and waits until a line of its output matches
// ready, returning the process and the line's submatches; with a nil ready it
// returns at once. The process is stopped in tb's cleanup. Start fails the
// test when the process exits or stays silent for [ReadyTimeout] first.
func Start(tb testing.TB, bin string, ready *regexp.Regexp, args ...string) (*Proc, []string) {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s %v: %v", bin, args, err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	matched := make(chan []string, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := ready == nil
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			p.mu.Unlock()
			if !sent {
				if m := ready.FindStringSubmatch(line); m != nil {
					matched <- m
					sent = true
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		<-readerDone
		close(p.done)
	}()
	tb.Cleanup(func() { p.Stop(10 * time.Second) })
	if ready == nil {
		return p, nil
	}
	select {
	case m := <-matched:
		return p, m
	case <-p.done:
		tb.Fatalf("%s %v exited before ready (%v):\n%s", bin, args, p.err, p.Output())
	case <-time.After(ReadyTimeout):
		tb.Fatalf("%s %v not ready after %v:\n%s", bin, args, ReadyTimeout, p.Output())
	}
	return nil, nil
}

// Output returns everything the process printed so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// Wait waits up to d for the process to exit; it returns the exit error and
// whether the process exited.
func (p *Proc) Wait(d time.Duration) (error, bool) {
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(d):
		return nil, false
	}
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop terminates the process: SIGTERM, then SIGKILL after grace. It
// returns once the process is gone.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	p.Signal(syscall.SIGTERM)
	if _, ok := p.Wait(grace); !ok {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
