package mmd

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// blockSum splits [0, n) into consecutive blocks of at most block indices,
// evaluates fn on each block, concurrently when there are several blocks, and
// returns the sum of the block results taken in block order. The result
// therefore does not depend on the number of goroutines.
func blockSum(n, block int, fn func(lo, hi int) float64) float64 {
	if n <= 0 {
		return 0
	}
	nb := (n + block - 1) / block
	if nb == 1 {
		return fn(0, n)
	}
	parts := make([]float64, nb)
	forBlocks(nb, func(b int) {
		lo := b * block
		parts[b] = fn(lo, min(lo+block, n))
	})
	var s float64
	for _, v := range parts {
		s += v
	}
	return s
}

// parallelFor calls fn on consecutive blocks of at most block indices that
// cover [0, n), concurrently when there are several blocks.
func parallelFor(n, block int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	nb := (n + block - 1) / block
	if nb == 1 {
		fn(0, n)
		return
	}
	forBlocks(nb, func(b int) {
		lo := b * block
		fn(lo, min(lo+block, n))
	})
}

// forBlocks runs fn(0..nb-1) on up to GOMAXPROCS goroutines, handing out
// blocks dynamically so that uneven blocks balance.
func forBlocks(nb int, fn func(b int)) {
	workers := min(runtime.GOMAXPROCS(0), nb)
	if workers <= 1 {
		for b := range nb {
			fn(b)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= nb {
					return
				}
				fn(b)
			}
		}()
	}
	wg.Wait()
}
