package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/kv-agent/agent/agent/supervise"
)

// stopSignal is what a restart sends the child before killTimeout runs out.
const stopSignal = syscall.SIGTERM

// supervisor owns the child of agent run --watch: it starts it after the
// first render, passes signals on, acts on the changes the watcher queues,
// and ends when the child ends. Everything it does happens on the
// goroutine of run.
type supervisor struct {
	log       *slog.Logger
	reaper    *supervise.Reaper
	argv      []string
	base      *envList
	path      string // found before the first render; "" to look it up at start
	opts      supervise.ChildOptions
	tty       bool
	lookPath  func(name string, env *envList) (string, error)
	q         *changeQueue
	w         *watcher
	sigs      <-chan os.Signal
	watchDone <-chan error
	cancel    func() // stops the watcher
	ready     func() // tells systemd, once the child runs

	child      *supervise.Child
	childEnv   map[string]string // the values the running child got
	restarting bool              // the child is being stopped to start again
	stopping   bool              // the agent was told to stop: the child's exit ends it
	stops      sync.WaitGroup    // stops in progress; each ends with the child it stops
}

// run supervises until the child exits and returns the agent's result:
// nil for exit code 0, else an *ExitError with the code. Before the child
// starts, it returns the first render's failure, or ExitTempFail when
// startTimeout passes first.
func (s *supervisor) run(startTimeout time.Duration) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		var quiet <-chan time.Time
		var quietTimer *time.Timer
		if at, ok := s.q.due(); ok && s.child != nil && !s.restarting && !s.stopping {
			quietTimer = time.NewTimer(time.Until(at))
			quiet = quietTimer.C
		}
		var childDone <-chan struct{}
		if s.child != nil {
			childDone = s.child.Done()
		}
		var startBy <-chan time.Time
		if s.child == nil {
			startBy = deadline.C
		}
		done, err := s.next(quiet, childDone, startBy, startTimeout)
		if quietTimer != nil {
			quietTimer.Stop()
		}
		if done {
			return err
		}
	}
}

// next waits for one event and handles it; done means the agent ends with
// err.
func (s *supervisor) next(quiet <-chan time.Time, childDone <-chan struct{}, startBy <-chan time.Time, startTimeout time.Duration) (done bool, err error) {
	select {
	case <-s.q.wake:
		if s.child == nil && s.q.isReady() {
			if err := s.firstStart(); err != nil {
				return true, err
			}
		}
	case <-quiet:
		s.act()
	case <-childDone:
		return s.exited()
	case sig := <-s.sigs:
		return s.signal(sig.(syscall.Signal))
	case err := <-s.watchDone:
		// Only a failed first render or a cancel ends the watcher.
		if s.child == nil {
			if err == nil {
				err = &ExitError{Code: ExitTempFail, Err: errors.New("stopped before the first render; nothing was started")}
			}
			return true, err
		}
		s.watchDone = nil
	case <-startBy:
		s.cancel()
		return true, &ExitError{Code: ExitTempFail, Err: fmt.Errorf("deadline of %s exceeded before the first render completed; the command was not started", startTimeout)}
	}
	return false, nil
}

// firstStart starts the child once the first render is done.
func (s *supervisor) firstStart() error {
	s.q.mu.Lock()
	env := maps.Clone(s.q.env)
	s.q.mu.Unlock()
	if err := s.start(env); err != nil {
		s.cancel()
		return err
	}
	s.ready()
	return nil
}

// start starts the child with the base environment plus env.
func (s *supervisor) start(env map[string]string) error {
	environ, err := childEnviron(s.base, env)
	if err != nil {
		return err
	}
	path := s.path
	if path == "" {
		if path, err = s.lookPath(s.argv[0], newEnvList(environ)); err != nil {
			return err
		}
	}
	c, err := s.reaper.Start(path, s.argv, environ, s.opts)
	if err != nil {
		return execError(err)
	}
	s.child, s.childEnv = c, env
	s.log.Info("child started", "pid", c.Pid(), "path", path)
	return nil
}

// exited handles the child's exit: the end of the agent, unless the
// supervisor stopped it to start it again.
func (s *supervisor) exited() (bool, error) {
	code := s.child.Wait()
	s.stops.Wait() // a stop's report comes before the exit's
	if s.restarting && !s.stopping {
		s.restarting = false
		s.log.Info("child stopped for a restart", "pid", s.child.Pid(), "exit_code", code)
		p := s.q.take() // the new child starts with everything rendered so far
		if err := s.start(p.env); err != nil {
			s.cancel()
			return true, err
		}
		return false, nil
	}
	s.log.Info("child exited; the agent exits with its code", "pid", s.child.Pid(), "exit_code", code)
	s.cancel()
	if code == 0 {
		return true, nil
	}
	return true, &ExitError{Code: code, Err: errSilent}
}

// act restarts or signals the child for the changes that piled up.
func (s *supervisor) act() {
	p := s.q.take()
	changed := changedNames(s.childEnv, p.env)
	switch {
	case p.envDirty && len(changed) > 0:
		s.log.Info("environment changed; restarting the child", "pid", s.child.Pid(), "variables", changed)
		s.restart(p.watch.KillTimeout)
	case p.restart:
		s.log.Info("files changed; restarting the child (watch.onChange: restart)", "pid", s.child.Pid())
		s.restart(p.watch.KillTimeout)
	default:
		if p.envDirty {
			s.log.Debug("environment rendered back to what the child has; nothing to do")
		}
		for _, sig := range p.sigs {
			if err := s.child.Signal(sig); err != nil {
				s.log.Error("cannot signal the child", "signal", sigName(sig), "err", err)
				continue
			}
			s.log.Info("files changed; signalled the child", "pid", s.child.Pid(), "signal", sigName(sig))
		}
	}
}

// restart stops the child (stop signal, then SIGKILL after timeout); its
// exit starts the next one (exited).
func (s *supervisor) restart(timeout time.Duration) {
	s.restarting = true
	s.stop(timeout)
}

func (s *supervisor) stop(timeout time.Duration) {
	c := s.child
	s.stops.Go(func() {
		if _, killed := c.Stop(stopSignal, timeout); killed {
			s.log.Warn("child did not exit within killTimeout; killed it", "pid", c.Pid(), "kill_timeout", timeout)
		}
	})
}

// signal handles a signal sent to the agent.
func (s *supervisor) signal(sig syscall.Signal) (bool, error) {
	switch {
	case sig == syscall.SIGHUP:
		s.log.Info("SIGHUP: reloading the manifest and checking now")
		s.w.requestReload()
		return false, nil
	case s.child == nil:
		// Nothing to pass on yet; a stop request (Ctrl-C included) ends
		// the start-up.
		if sig == syscall.SIGTERM || sig == syscall.SIGINT {
			s.cancel()
			return true, &ExitError{Code: 128 + int(sig), Err: fmt.Errorf("%s before the command started; nothing was started", sigName(sig))}
		}
		return false, nil
	case !supervise.Forward(sig, s.tty):
		s.log.Debug("signal not passed on", "signal", sigName(sig))
		return false, nil
	case sig == syscall.SIGTERM:
		if s.stopping {
			return false, nil
		}
		s.stopping = true
		timeout := s.q.settings().KillTimeout
		s.log.Info("SIGTERM: stopping the child", "pid", s.child.Pid(), "kill_timeout", timeout)
		if s.restarting {
			return false, nil // already being stopped
		}
		s.stop(timeout)
		return false, nil
	}
	if err := s.child.Signal(sig); err != nil && !errors.Is(err, supervise.ErrExited) {
		s.log.Warn("cannot pass a signal on to the child", "signal", sigName(sig), "err", err)
	}
	return false, nil
}

// sigName names a signal as the manifest does ("SIGHUP").
func sigName(sig syscall.Signal) string {
	for name, s := range signalsByName {
		if s == sig {
			return name
		}
	}
	return fmt.Sprintf("signal %d", int(sig))
}
