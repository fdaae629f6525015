package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func naiveGEMM(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = s + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

// TestBlockedGEMM compares the blocked product, with every micro-kernel this CPU can run (the assembly kernels and
// the Go kernels of both shapes), against a float64 triple loop for every transpose combination, ragged and
// multi-block sizes, leading dimensions larger than the matrix, and beta 0, 1 and 0.5.
func TestBlockedGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {8, 32, 2}, {9, 33, 5}, {5, 3, 300}, {125, 1030, 257},
		{64, 512, 4096 / 8}, {13, 40, 520}, {27, 64, 40}}
	for _, kern := range kernels {
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, beta := range []float32{0, 1, 0.5} {
					name := fmt.Sprintf("%s %dx%d/%dx%dx%d/tA=%t/tB=%t/beta=%g", kern.name, kern.mr, kern.nr, m, n, k, tr[0], tr[1], beta)
					ar, ac := m, k
					if tr[0] {
						ar, ac = k, m
					}
					br, bc := k, n
					if tr[1] {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+2, bc+1, n+3
					a, b, c := randF32(ar*lda, rng), randF32(br*ldb, rng), randF32(m*ldc, rng)
					want := naiveGEMM(tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, c, ldc)
					got := append([]float32(nil), c...)
					sgemmBlockedWith(kern, tr[0], tr[1], m, n, k, a, lda, b, ldb, beta, got, ldc)
					var worst float64
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							d := math.Abs(float64(got[i*ldc+j])-want[i*n+j]) / (1 + math.Sqrt(float64(k)))
							worst = math.Max(worst, d)
						}
						for j := n; j < ldc; j++ { // padding columns untouched
							if got[i*ldc+j] != c[i*ldc+j] {
								t.Fatalf("%s: wrote outside C at (%d, %d)", name, i, j)
							}
						}
					}
					if worst > 1e-5 {
						t.Errorf("%s: error %.3g", name, worst)
					}
				}
			}
		}
	}
}

func randF32(n int, rng *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func BenchmarkGEMM(b *testing.B) {
	for _, sz := range [][3]int{{128, 4096, 576}, {576, 4096, 128}, {128, 576, 4096}, {1024, 1024, 1024}} {
		m, n, k := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randF32(m*k, rng), randF32(k*n, rng), randF32(m*n, rng)
		flops := 2 * float64(m*n*k)
		b.Run(fmt.Sprintf("gonum/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		for _, kern := range kernels {
			if kern.name == "go" {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", kern.name, m, n, k), func(b *testing.B) {
				for b.Loop() {
					sgemmBlockedWith(kern, false, false, m, n, k, a, k, bb, n, 0, c, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}

// toBatch stores a row-major rows x cols matrix in the batch layout with hw positions per sample.
func toBatch(x []float32, rows, cols, hw int) []float32 {
	out := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			out[((j/hw)*rows+r)*hw+j%hw] = x[r*cols+j]
		}
	}
	return out
}

// TestBatchLayout: products with A, B or C in the batch layout (HW32's operands) equal the row-major product,
// for every kernel, positions per sample that do and do not divide the tile width, beta 0 and 1, and tiles of C
// that cross samples.
func TestBatchLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, kern := range kernels {
		for _, tc := range []struct{ m, n, k, hw int }{
			{16, 64 * 3, 40, 64}, {27, 16 * 5, 9, 16}, {13, 49 * 4, 300, 49}, {64, 256 * 2, 27, 256}, {8, 196 * 2, 20, 196},
		} {
			for _, lay := range []string{"a", "b", "c", "bc"} {
				for _, beta := range []float32{0, 1} {
					m, n, k, hw := tc.m, tc.n, tc.k, tc.hw
					var l batchLayout
					if lay == "a" {
						// A is m x k with k = samples*hw.
						k = n
						l.a = hw
					}
					if lay == "b" || lay == "bc" {
						l.b = hw
					}
					if lay == "c" || lay == "bc" {
						l.c = hw
					}
					a, b, c := randF32(m*k, rng), randF32(k*n, rng), randF32(m*n, rng)
					want := naiveGEMM(false, false, m, n, k, a, k, b, n, beta, c, n)
					pa, pb, pc := a, b, append([]float32(nil), c...)
					if l.a > 0 {
						pa = toBatch(a, m, k, hw)
					}
					if l.b > 0 {
						pb = toBatch(b, k, n, hw)
					}
					if l.c > 0 {
						pc = toBatch(c, m, n, hw)
					}
					sgemmLayout(kern, l, false, false, m, n, k, pa, k, pb, n, beta, pc, n)
					got := pc
					if l.c > 0 {
						got = make([]float32, m*n)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								got[i*n+j] = pc[((j/hw)*m+i)*hw+j%hw]
							}
						}
					}
					for i := range want {
						if d := math.Abs(float64(got[i])-want[i]) / (1 + math.Sqrt(float64(k))); d > 1e-5 {
							t.Fatalf("%s %dx%d %+v layout %s beta %g: C[%d] = %v, want %v", kern.name, kern.mr, kern.nr, tc, lay, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestTilingInvariant: every element of C is summed in the same order whatever tile it falls in (a whole tile of
// the kernel or a ragged one through the tile buffer), so a product's columns are bit-for-bit the same when
// computed as part of a wider product (other tile boundaries, other worker splits), across several depth blocks
// (k > KC), row-major and in the batch layout.
func TestTilingInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, kern := range kernels {
		m, k := 2*kern.mr, 3*gemmKC+5
		// Row-major: the first 20 columns alone (a ragged tile) and within 4 whole tiles.
		n := 4 * kern.nr
		a, b := randF32(m*k, rng), randF32(k*n, rng)
		full := make([]float32, m*n)
		sgemmBlockedWith(kern, false, false, m, n, k, a, k, b, n, 0, full, n)
		part := make([]float32, m*n)
		sgemmBlockedWith(kern, false, false, m, 20, k, a, k, b, n, 0, part, n)
		for i := 0; i < m; i++ {
			for j := 0; j < 20; j++ {
				if math.Float32bits(part[i*n+j]) != math.Float32bits(full[i*n+j]) {
					t.Fatalf("%s: C[%d][%d] is %v alone, %v in the wider product", kern.name, i, j, part[i*n+j], full[i*n+j])
				}
			}
		}
		// Batch layout: one sample of hw = 2 NR positions (whole tiles) against the same sample in a product whose
		// tiles straddle samples (hw + NR/2 columns per sample would be another matrix; use a ragged column count).
		hw := 2 * kern.nr
		b = randF32(k*3*hw, rng)
		wide := make([]float32, m*3*hw)
		sgemmLayout(kern, batchLayout{b: hw, c: hw}, false, false, m, 3*hw, k, a, k, b, 3*hw, 0, wide, 3*hw)
		one := make([]float32, m*hw)
		sgemmLayout(kern, batchLayout{b: hw, c: hw}, false, false, m, hw-3, k, a, k, b[:k*hw], hw, 0, one, hw)
		for i := 0; i < m; i++ {
			for q := 0; q < hw-3; q++ {
				if math.Float32bits(one[i*hw+q]) != math.Float32bits(wide[i*hw+q]) {
					t.Fatalf("%s batch layout: C[%d][%d] is %v in a ragged product, %v in whole tiles", kern.name, i, q, one[i*hw+q], wide[i*hw+q])
				}
			}
		}
	}
}
