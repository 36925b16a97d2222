// Package metrics holds the service's Prometheus collectors, served at /metrics.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// Metrics is one registry with the service's collectors. Labels never carry personal data or
// concern references: routes are templates, activities are type names.
type Metrics struct {
	Registry         *prometheus.Registry
	HTTPDuration     *prometheus.HistogramVec
	ConcernsRaised   prometheus.Counter
	ActivityFailures *prometheus.CounterVec
}

// New returns a registry with the Go and process collectors and the service's own.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "safeguard_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route template, method and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		ConcernsRaised: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "safeguard_concerns_raised_total",
			Help: "Concerns raised (first answers only; idempotent repeats are not counted).",
		}),
		ActivityFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safeguard_activity_failures_total",
			Help: "Activity attempts that returned an error, by activity type.",
		}, []string{"activity"}),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPDuration, m.ConcernsRaised, m.ActivityFailures)
	return m
}

// RegisterOutboxBacklog exports the number of messages waiting to be sent, read from the
// database at each scrape (a COUNT over an indexed status column).
func (m *Metrics) RegisterOutboxBacklog(count func(context.Context) (int, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "safeguard_outbox_backlog",
		Help: "Outbox messages waiting to be sent.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := count(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
}

// WorkerInterceptor counts failed activity attempts. Add it to worker.Options.Interceptors.
func (m *Metrics) WorkerInterceptor() interceptor.WorkerInterceptor {
	return &workerInterceptor{m: m}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (w *workerInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &activityInterceptor{m: w.m}
	i.Next = next
	return i
}

type activityInterceptor struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

func (a *activityInterceptor) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if err != nil {
		a.m.ActivityFailures.WithLabelValues(activityType(ctx)).Inc()
	}
	return res, err
}

func activityType(ctx context.Context) string {
	return activity.GetInfo(ctx).ActivityType.Name
}
