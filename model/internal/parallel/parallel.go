// Package parallel splits loops over goroutines for the network's kernels and the optimiser: GOMAXPROCS of them,
// or fewer while SetWorkers says so.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// limit is the worker count SetWorkers set (0: none set).
var limit atomic.Int32

// SetWorkers makes Workers return n (at least 1) until the returned function restores the previous setting. It
// is for callers that run several graphs side by side (model.NewTrainStepReplicas), each of which should split
// its loops over its share of the cores; it applies to every kernel in the process while set. Results never
// depend on it: every kernel computes each value in the same order whatever the split.
func SetWorkers(n int) (restore func()) {
	old := limit.Swap(int32(max(1, n)))
	return func() { limit.Store(old) }
}

// Workers is the number of goroutines a kernel splits its work between: GOMAXPROCS, or SetWorkers' value.
func Workers() int {
	if n := limit.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// For runs body over [0, n) split into contiguous ranges, one per worker, when n*costPerItem is large enough to
// pay for the goroutines; otherwise it runs inline. body must be safe to run concurrently on disjoint ranges.
func For(n, costPerItem int, body func(lo, hi int)) {
	workers := Workers()
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*costPerItem < 1<<15 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}
