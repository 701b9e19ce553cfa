package manifest

import (
	"slices"
	"strings"
	"time"
)

// watch decodes the "watch" mapping, filling in defaults.
func (p *parser) watch(top *object) {
	w := Watch{
		Interval:    DefaultWatchInterval,
		Jitter:      DefaultWatchJitter,
		WaitMin:     DefaultWaitMin,
		WaitMax:     DefaultWaitMax,
		OnChange:    OnChangeRestart,
		KillTimeout: DefaultKillTimeout,
	}
	defer func() { p.m.Watch = w }()
	e, ok := top.section("watch")
	if !ok {
		return
	}
	o, ok := p.object(e.val, "watch", "interval", "jitter", "wait", "onChange", "signal", "killTimeout")
	if !ok {
		return
	}
	w.Interval = o.duration("interval", DefaultWatchInterval, MinWatchInterval)
	w.Jitter = o.fraction("jitter", DefaultWatchJitter)
	w.KillTimeout = o.duration("killTimeout", DefaultKillTimeout, 1)
	if e, ok := o.fields["wait"]; ok {
		w.WaitMin, w.WaitMax = p.wait(e)
	}
	onChangeOK := true
	if s, ok := o.str("onChange"); ok {
		modes := []string{OnChangeRestart, OnChangeSignal, OnChangeNone}
		if slices.Contains(modes, s) {
			w.OnChange = s
		} else {
			onChangeOK = false
			p.errorAt(o.pos("onChange"), o.field("onChange"), "unknown value %q (valid: %s)%s", s, strings.Join(modes, ", "), didYouMean(s, modes))
		}
	}
	switch {
	case o.has("signal") && w.OnChange != OnChangeSignal:
		if onChangeOK {
			p.errorf(o.fields["signal"].key, o.field("signal"), "only valid with onChange: signal")
		}
	case o.has("signal"):
		w.Signal = p.signal(o, "signal")
	case w.OnChange == OnChangeSignal:
		w.Signal = DefaultSignal
	}
}

// wait decodes watch.wait {min, max}, the quiescence bounds.
func (p *parser) wait(e entry) (lo, hi time.Duration) {
	o, ok := p.object(e.val, "watch.wait", "min", "max")
	if !ok {
		return DefaultWaitMin, DefaultWaitMax
	}
	lo = o.duration("min", DefaultWaitMin, 0)
	hi = o.duration("max", DefaultWaitMax, 0)
	if hi < lo {
		if o.has("max") {
			p.errorAt(o.pos("max"), o.field("max"), "must not be less than min (%s)", lo)
		} else {
			p.errorAt(o.pos("min"), o.field("min"), "must not be more than max (%s)", hi)
		}
	}
	return lo, hi
}
