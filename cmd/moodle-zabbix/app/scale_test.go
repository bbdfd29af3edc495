package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/internal/config"
)

// TestPacedSpreadsAndLimits: 60 sites fire together; each starts at its own offset within
// the jitter (600 ms here), never more than the limit run at once, and a
// stuck site gives its place back after slotHold so the others finish.
func TestPacedSpreadsAndLimits(t *testing.T) {
	defer func(d time.Duration) { slotHold = d }(slotHold)
	slotHold = 300 * time.Millisecond
	rt := &Runtime{cfg: &config.Config{Scale: config.Scale{MaxConcurrentSites: 4, Jitter: 600 * time.Millisecond}}}
	var running, peak atomic.Int32
	var mu sync.Mutex
	starts := map[string]time.Duration{}
	stuck := make(chan struct{})
	fired := time.Now()
	var wg sync.WaitGroup
	for i := range 60 {
		site := fmt.Sprintf("site-%02d", i)
		// A yearly spec: the next tick is far, so the whole 600 ms jitter applies whatever the
		// wall clock (an every-minute spec would shrink it near the end of a minute).
		job := rt.paced(site, "0 0 1 1 *", time.UTC, func(ctx context.Context, f time.Time) error {
			if !f.Equal(fired) {
				t.Errorf("%s: job got %v, want the scheduled time", site, f)
			}
			n := running.Add(1)
			defer running.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			mu.Lock()
			starts[site] = time.Since(fired)
			mu.Unlock()
			if i < 3 {
				<-stuck // three dead sites
			} else {
				time.Sleep(20 * time.Millisecond)
			}
			return nil
		})
		wg.Add(1)
		go func() { defer wg.Done(); _ = job(context.Background(), fired) }()
	}
	deadline := time.After(5 * time.Second)
	for {
		mu.Lock()
		n := len(starts)
		mu.Unlock()
		if n == 60 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("only %d of 60 sites started: stuck sites hold the limit", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(stuck)
	wg.Wait()
	// Three stuck sites give their places back, so up to 4 live ones plus them may overlap.
	if p := peak.Load(); p > 4+3 {
		t.Errorf("peak %d bursts at once, want at most 7", p)
	}
	var early, late int
	for site, d := range starts {
		want := config.JitterOf(site, 600*time.Millisecond)
		if d < want {
			t.Errorf("%s started %v after the tick, before its offset %v", site, d, want)
		}
		if d < 300*time.Millisecond {
			early++
		} else {
			late++
		}
	}
	if early == 0 || late == 0 {
		t.Errorf("starts not spread: %d in the first half of the spread, %d in the second", early, late)
	}
}

func TestApplyShard(t *testing.T) {
	cfg := &config.Config{}
	for i := range 40 {
		cfg.Sites = append(cfg.Sites, config.Site{Name: fmt.Sprintf("s%d", i)})
	}
	all := cfg.Sites
	total := 0
	for i := 1; i <= 3; i++ {
		c := *cfg
		if err := applyShard(&c, fmt.Sprintf("%d/3", i)); err != nil {
			t.Fatal(err)
		}
		total += len(c.Sites)
	}
	if total != len(all) {
		t.Errorf("3 shards run %d sites, want %d", total, len(all))
	}
	c := *cfg
	if err := applyShard(&c, "nolabel"); err == nil {
		t.Error("an unknown label must be refused")
	}
	// A shard with no site is refused: that daemon would run nothing.
	one := config.Config{Sites: all[:1]}
	empty := fmt.Sprintf("%d/2", 2-config.ShardOf(all[0].Name, 2))
	if err := applyShard(&one, empty); err == nil {
		t.Errorf("shard %s holds no site: want an error", empty)
	}
}
