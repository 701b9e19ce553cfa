package supervise

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"
)

// Reaper is the one place that collects the exit status of the agent's
// children. It wakes on SIGCHLD and reaps, with wait4 on their own PIDs,
// the children started with [Reaper.Start], handing each status to its
// [Child]. When it reaps orphans (the agent is PID 1, the init of a
// container), it also reaps every other exited child of the agent: the
// processes that were reparented to it when their parent died, which would
// otherwise stay zombies for ever.
//
// Programs started with os/exec collect their own status (exec.Cmd.Wait);
// the reaper must not take it from them, so such commands are run with
// [Reaper.Run], which tells the reaper to leave them alone.
type Reaper struct {
	orphans bool
	sigs    chan os.Signal
	quit    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	children map[int]*Child // started with Start, not yet reaped
	running  map[int]bool   // started with Run: their Wait reaps them
	reaped   int            // orphans reaped
}

// NewReaper starts a reaper. With orphans, it reaps every exited child of
// the process (use it when the process is PID 1); without, only the
// children it started. Close stops it.
func NewReaper(orphans bool) *Reaper {
	r := &Reaper{
		orphans:  orphans,
		sigs:     make(chan os.Signal, 1),
		quit:     make(chan struct{}),
		children: map[int]*Child{},
		running:  map[int]bool{},
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	r.wg.Go(r.loop)
	return r
}

// Close stops the reaper. Children still running are no longer waited
// for: Close them only after their exit, or when the agent exits anyway.
func (r *Reaper) Close() {
	signal.Stop(r.sigs)
	close(r.quit)
	r.wg.Wait()
}

// Orphans returns how many processes the reaper reaped that it did not
// start.
func (r *Reaper) Orphans() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reaped
}

// Run runs cmd (Start, then Wait) without the reaper taking its exit
// status, and returns Wait's error.
func (r *Reaper) Run(cmd *exec.Cmd) error {
	r.mu.Lock()
	err := cmd.Start()
	if err == nil {
		r.running[cmd.Process.Pid] = true
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	err = cmd.Wait()
	r.mu.Lock()
	delete(r.running, cmd.Process.Pid)
	r.mu.Unlock()
	r.kick() // orphans may have waited behind it
	return err
}

func (r *Reaper) kick() {
	select {
	case r.sigs <- syscall.SIGCHLD:
	default:
	}
}

func (r *Reaper) loop() {
	for {
		r.reap()
		select {
		case <-r.quit:
			return
		case <-r.sigs:
		}
	}
}

// reap collects every exited child it may. Signals coalesce, so one
// SIGCHLD can stand for many exits: it loops until none is left.
func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid, c := range r.children {
		var ws syscall.WaitStatus
		got, err := wait4(pid, &ws)
		switch {
		case got == pid:
			r.finish(c, ws)
		case errors.Is(err, syscall.ECHILD):
			// Someone else took its status (a bug); do not wait for ever.
			r.finish(c, syscall.WaitStatus(255<<8))
		}
	}
	if !r.orphans {
		return
	}
	for {
		pid := exitedChild()
		if pid <= 0 || r.running[pid] {
			// None, or the first one belongs to an os/exec command: its
			// Wait reaps it, and Run kicks the reaper afterwards.
			return
		}
		var ws syscall.WaitStatus
		if got, _ := wait4(pid, &ws); got != pid {
			return
		}
		if c, ok := r.children[pid]; ok {
			r.finish(c, ws)
			continue
		}
		r.reaped++
	}
}

// finish hands a reaped child its status; r.mu is held.
func (r *Reaper) finish(c *Child, ws syscall.WaitStatus) {
	delete(r.children, c.pid)
	c.status, c.exited = ws, true
	close(c.done)
}

// wait4 reaps pid if it has exited, without blocking.
func wait4(pid int, ws *syscall.WaitStatus) (int, error) {
	for {
		got, err := syscall.Wait4(pid, ws, syscall.WNOHANG, nil)
		if !errors.Is(err, syscall.EINTR) {
			return got, err
		}
	}
}

// exitedChild returns the PID of an exited child without reaping it
// (waitid with WNOWAIT), or 0 when there is none.
func exitedChild() int {
	const pAll = 0
	// siginfo_t is 128 bytes; si_pid follows si_signo, si_errno and
	// si_code, aligned to a pointer's size.
	var info [128]byte
	pidOffset := (3*4 + unsafe.Sizeof(uintptr(0)) - 1) &^ (unsafe.Sizeof(uintptr(0)) - 1)
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pAll, 0, uintptr(unsafe.Pointer(&info[0])),
			syscall.WEXITED|syscall.WNOHANG|syscall.WNOWAIT, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0
		}
		return int(*(*int32)(unsafe.Pointer(&info[pidOffset])))
	}
}
