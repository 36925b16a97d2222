package http

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/safeguard-project/safeguard"
)

// Rate limits (token buckets, golang.org/x/time/rate) kept in memory per process. They slow
// down guessing and stop one client from starving the others; the lockout (in the database)
// is what bounds guessing of one account across processes.
type RateLimits struct {
	// SignInPerAddress bounds sign-in attempts from one client address, whatever the account:
	// an office behind one address signs in many people at the start of a shift.
	SignInPerAddress Rate
	// SignInPerAccount bounds attempts at one email, whatever the address, known or not.
	SignInPerAccount Rate
	// PerToken bounds requests made with one API token.
	PerToken Rate
}

// Rate is Burst requests at once, refilled at one every Every.
type Rate struct {
	Every time.Duration
	Burst int
}

// DefaultRateLimits are generous for people and scripts, tight for guessing.
var DefaultRateLimits = RateLimits{
	SignInPerAddress: Rate{Every: 3 * time.Second, Burst: 20},
	SignInPerAccount: Rate{Every: 12 * time.Second, Burst: 5},
	// 200 a second per token is well above what a person's script needs and what one small
	// server sustains (docs/performance.md), so it only stops a runaway client.
	PerToken: Rate{Every: 5 * time.Millisecond, Burst: 200},
}

// limiter is one token bucket per key. Buckets that have refilled completely are forgotten, so
// the map holds only keys seen recently.
type limiter struct {
	rate  Rate
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(r Rate) *limiter { return &limiter{rate: r, m: map[string]*bucket{}} }

// wait takes one request from key's bucket at now and returns 0, or returns how long the
// caller must wait before the bucket allows one (taking nothing).
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if l == nil || l.rate.Burst <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full := l.rate.Every * time.Duration(l.rate.Burst)
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.seen) > full {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b, ok := l.m[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(rate.Every(l.rate.Every), l.rate.Burst)}
		l.m[key] = b
	}
	b.seen = now
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// tooMany answers that the client must slow down: 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, wait time.Duration) error {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return safeguard.Errorf(safeguard.ERATELIMIT, "too many requests: retry in %d seconds", int(math.Ceil(wait.Seconds())))
}
