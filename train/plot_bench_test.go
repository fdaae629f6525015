package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkLossChart redraws loss.png (what every checkpoint does) for a run of 1,000 and of 30,000 noisy steps.
func BenchmarkLossChart(b *testing.B) {
	for _, n := range []int{1000, 30000} {
		b.Run(fmt.Sprintf("steps%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			h := make([]Record, n)
			for i := range h {
				v := math.Exp(-float64(i)/float64(n)) + 0.2*rng.NormFloat64() // a falling, noisy loss
				h[i] = Record{Step: int64(i + 1), Loss: v, MMD2: -v, L2: v * v, GradPenalty: 0.01 * v * v, GradNorm: 0.1 + 0.01*v}
			}
			b.ResetTimer()
			for range b.N {
				if _, err := renderLossChart(h, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
