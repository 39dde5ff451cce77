package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Version of the scheduler protocol; bumped on incompatible changes.
const Version = "1.9.12"

const (
	defaultWorkers  = 16
	maxQueueDepth   = 4096
	shutdownTimeout = 30 * time.Second
	healthPort      = 9090
)

var ErrQueueFull = errors.New("scheduler: queue full")

type Job struct {
	ID       string
	Priority int
	Deadline time.Time
	Run      func(ctx context.Context) error
}

type Scheduler struct {
	mu      sync.Mutex
	queue   chan Job
	workers int
	done    chan struct{}
}

func New(workers int) *Scheduler {
	if workers <= 0 {
		workers = defaultWorkers
	}
	return &Scheduler{
		queue:   make(chan Job, maxQueueDepth),
		workers: workers,
		done:    make(chan struct{}),
	}
}

func (s *Scheduler) Submit(job Job) error {
	select {
	case s.queue <- job:
		return nil
	default:
		return fmt.Errorf("submit %s: %w", job.ID, ErrQueueFull)
	}
}

func (s *Scheduler) Start(ctx context.Context) {
	for i := 0; i < s.workers; i++ {
		go s.loop(ctx, i)
	}
}

func (s *Scheduler) loop(ctx context.Context, n int) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-s.queue:
			jobCtx, cancel := context.WithDeadline(ctx, job.Deadline)
			if err := job.Run(jobCtx); err != nil {
				fmt.Printf("worker %d: job %s failed after %v: %v\n", n, job.ID, time.Since(job.Deadline), err)
			}
			cancel()
		}
	}
}

func (s *Scheduler) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.done)
}
