// Package parallel splits loops over GOMAXPROCS goroutines for the network's kernels and the optimiser.
package parallel

import (
	"runtime"
	"sync"
)

// For runs body over [0, n) split into contiguous ranges, one per worker, when n*costPerItem is large enough to
// pay for the goroutines; otherwise it runs inline. body must be safe to run concurrently on disjoint ranges.
func For(n, costPerItem int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
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
