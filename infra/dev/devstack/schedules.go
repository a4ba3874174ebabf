package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/guestaccess/guestaccess/infra/samtemplate"
)

// ScheduledJob runs one scheduled function once, as its Schedule event
// would, and returns its report.
type ScheduledJob func(ctx context.Context) (any, error)

// scheduledJobs maps the logical id of every function with a Schedule event
// in template.yaml to how the stack runs it; Start refuses a template whose
// schedule has no entry here.
func (st *Stack) scheduledJobs() map[string]ScheduledJob {
	return map[string]ScheduledJob{
		RetryFunctionID:       func(ctx context.Context) (any, error) { return st.RetryEmails(ctx) },
		ReverifyFunctionID:    func(ctx context.Context) (any, error) { return st.Reverify(ctx) },
		DomainCheckFunctionID: func(ctx context.Context) (any, error) { return st.CheckDomains(ctx) },
	}
}

// scheduler runs the template's schedules in process: each on its own
// ticker when started, and any of them on demand (POST
// /dev/schedules/{function}). Runs of one function never overlap.
type scheduler struct {
	schedules []samtemplate.Schedule
	jobs      map[string]ScheduledJob
	log       *slog.Logger
	mu        sync.Mutex
	running   map[string]*sync.Mutex
	last      map[string]ScheduleRun
}

// ScheduleRun is the outcome of a scheduled function's latest run.
type ScheduleRun struct {
	At     time.Time `json:"at"`
	Report any       `json:"report,omitempty"`
	Error  string    `json:"error,omitempty"`
}

func newScheduler(tpl *samtemplate.Template, jobs map[string]ScheduledJob, log *slog.Logger) (*scheduler, error) {
	ss, err := tpl.Schedules()
	if err != nil {
		return nil, err
	}
	sc := &scheduler{schedules: ss, jobs: jobs, log: log, running: map[string]*sync.Mutex{}, last: map[string]ScheduleRun{}}
	for _, s := range ss {
		if _, ok := jobs[s.FunctionID]; !ok {
			return nil, fmt.Errorf("template schedule %s.%s: the dev stack has no job for %s", s.FunctionID, s.EventID, s.FunctionID)
		}
		sc.running[s.FunctionID] = &sync.Mutex{}
	}
	return sc, nil
}

// run runs one function's job now (waiting for a run in progress to end).
func (sc *scheduler) run(ctx context.Context, fn string) (ScheduleRun, error) {
	job, ok := sc.jobs[fn]
	if !ok {
		return ScheduleRun{}, fmt.Errorf("no scheduled function %s", fn)
	}
	sc.running[fn].Lock()
	defer sc.running[fn].Unlock()
	rep, err := job(ctx)
	r := ScheduleRun{At: time.Now().UTC(), Report: rep}
	if err != nil {
		r.Error = err.Error()
		if sc.log != nil {
			sc.log.ErrorContext(ctx, "scheduled run failed", slog.String("function", fn), slog.String("error", err.Error()))
		}
	}
	sc.mu.Lock()
	sc.last[fn] = r
	sc.mu.Unlock()
	return r, nil
}

// start runs every rate() schedule on its ticker until ctx ends.
func (sc *scheduler) start(ctx context.Context) {
	for _, s := range sc.schedules {
		if s.Every <= 0 {
			continue
		}
		go func(s samtemplate.Schedule) {
			t := time.NewTicker(s.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_, _ = sc.run(ctx, s.FunctionID)
				}
			}
		}(s)
	}
}

// Last returns the latest run of each scheduled function.
func (sc *scheduler) Last() map[string]ScheduleRun {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	out := make(map[string]ScheduleRun, len(sc.last))
	for k, v := range sc.last {
		out[k] = v
	}
	return out
}

// runHandler serves POST /dev/schedules/{function}: one run now, its report as JSON.
func (sc *scheduler) runHandler(w http.ResponseWriter, r *http.Request) {
	fn := r.PathValue("function")
	if _, ok := sc.jobs[fn]; !ok {
		http.Error(w, "no scheduled function "+fn, http.StatusNotFound)
		return
	}
	run, _ := sc.run(r.Context(), fn)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if run.Error != "" {
		w.WriteHeader(http.StatusInternalServerError)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"function": fn, "run": run})
}
