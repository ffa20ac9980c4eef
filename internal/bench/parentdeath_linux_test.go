package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infergate/infergate/internal/proctest"
)

// TestChildrenDieWithBench checks that a child started by the bench ends
// when the bench is killed with SIGKILL, which no handler can catch.
func TestChildrenDieWithBench(t *testing.T) {
	parent := exec.Command(os.Args[0])
	parent.Env = append(os.Environ(), dyingParentEnv+"=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("read the child's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q: %v", line, err)
	}
	if !alive(pid) {
		t.Fatalf("child %d not running before the kill", pid)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	proctest.Eventually(t, 10*time.Second, "the child to end with its parent", func() error {
		if alive(pid) {
			return fmt.Errorf("child %d still running", pid)
		}
		return nil
	})
}

// alive reports whether process pid exists and is not a zombie (a killed
// orphan stays a zombie until its new parent reaps it).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
