package train

import (
	"runtime"
	"testing"
	"time"

	"github.com/dmmd/dmmd/diffusion"
	"github.com/dmmd/dmmd/model"
)

// heapAfterGC returns the live heap once the collector has settled (objects with finalizers, such as Gorgonia's
// tape machine, take two cycles and a run of the finalizer goroutine), stopping early at or below `below`.
func heapAfterGC(below uint64) uint64 {
	var m runtime.MemStats
	for range 10 {
		runtime.GC()
		runtime.ReadMemStats(&m)
		if m.HeapAlloc <= below {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return m.HeapAlloc
}

// TestHeldOutMMDReleasesMemory calls HeldOutMMD, which compiles a feature graph per call, many times and checks
// that the heap does not grow: each call used to keep its graph for the life of the process.
func TestHeldOutMMDReleasesMemory(t *testing.T) {
	ds := synthetic(t, 64, 5)
	c := tinyConfig(t, 1)
	mc, err := model.Preset(c.Preset, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := model.Init(mc, 1)
	if err != nil {
		t.Fatal(err)
	}
	call := func() float64 {
		v, err := HeldOutMMD(p, ds, diffusion.Default(), 0.3, 32, 1)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := call()
	base := heapAfterGC(0)
	const calls = 8
	for range calls {
		if v := call(); v != first {
			t.Fatalf("HeldOutMMD changed between calls with the same seed: %v then %v", first, v)
		}
	}
	const slack = 1 << 20
	if after := heapAfterGC(base + slack); after > base+slack {
		t.Errorf("heap grew from %.2f to %.2f MiB over %d HeldOutMMD calls", mib(base), mib(after), calls)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
