package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naivePatches is the patch matrix of pt by its definition.
func naivePatches(pt *Patches) []float32 {
	K, N := pt.Rows(), pt.Cols()
	out := make([]float32, K*N)
	for r := 0; r < K; r++ {
		ci, i, j := r/(pt.KH*pt.KW), r/pt.KW%pt.KH, r%pt.KW
		for c := 0; c < N; c++ {
			b, oh, ow := c/(pt.Ho*pt.Wo), c%(pt.Ho*pt.Wo)/pt.Wo, c%pt.Wo
			ih, iw := oh*pt.Stride-pt.Pad+i, ow*pt.Stride-pt.Pad+j
			if ih >= 0 && ih < pt.H && iw >= 0 && iw < pt.W {
				out[r*N+c] = pt.X[((b*pt.C+ci)*pt.H+ih)*pt.W+iw]
			}
		}
	}
	return out
}

func newPatches(b, c, h, w, k, stride, pad int, rng *rand.Rand) *Patches {
	pt := &Patches{B: b, C: c, H: h, W: w, KH: k, KW: k, Stride: stride, Pad: pad}
	pt.Ho, pt.Wo = (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1
	pt.X = randF32(b*c*h*w, rng)
	return pt
}

var patchCases = []struct{ b, c, h, w, k, s, pad int }{
	{2, 3, 8, 8, 3, 1, 1}, {3, 2, 7, 7, 3, 2, 1}, {2, 4, 6, 6, 1, 2, 0}, {2, 2, 9, 6, 3, 1, 0},
	{2, 1, 7, 5, 5, 3, 2}, {4, 5, 16, 16, 3, 2, 1}, {3, 3, 14, 14, 3, 2, 1},
}

// TestPatchesProducts: the convolution W patches (C in the batch layout) and the weight gradient dy patches^T
// (A in the batch layout) with the patches packed on the fly equal the products with the patch matrix built by
// its definition, for every kernel, strides, paddings, kernel sizes and ragged positions per sample; and every
// segment of a row read alone is the definition's.
func TestPatchesProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range patchCases {
		pt := newPatches(tc.b, tc.c, tc.h, tc.w, tc.k, tc.s, tc.pad, rng)
		K, N, hw := pt.Rows(), pt.Cols(), pt.Ho*pt.Wo
		ref := naivePatches(pt)
		for r := 0; r < K; r++ {
			for _, seg := range [][2]int{{0, N}, {1, N - 1}, {N / 3, N/3 + pt.Wo + 1}, {N - 1, N}} {
				got := make([]float32, seg[1]-seg[0])
				pt.row(r, seg[0], got)
				for i, v := range got {
					if v != ref[r*N+seg[0]+i] {
						t.Fatalf("%+v: row %d column %d: %v, want %v", tc, r, seg[0]+i, v, ref[r*N+seg[0]+i])
					}
				}
			}
		}
		for _, kern := range kernels {
			name := fmt.Sprintf("%+v %s %dx%d", tc, kern.name, kern.mr, kern.nr)
			cout := 9
			w := randF32(cout*K, rng)
			// Forward: y (B, Cout, Ho, Wo) = W (Cout x K) patches (K x N).
			want := naiveGEMM(false, false, cout, N, K, w, K, ref, N, 0, make([]float32, cout*N), N)
			y := make([]float32, cout*N)
			sgemmLayout(kern, batchLayout{c: hw, patches: pt}, false, false, cout, N, K, w, K, nil, 0, 0, y, 0)
			for i := 0; i < cout; i++ {
				for c := 0; c < N; c++ {
					got := y[((c/hw)*cout+i)*hw+c%hw]
					if d := math.Abs(float64(got)-want[i*N+c]) / (1 + math.Sqrt(float64(K))); d > 1e-5 {
						t.Fatalf("%s forward: y[%d][%d] = %v, want %v", name, i, c, got, want[i*N+c])
					}
				}
			}
			// Weight gradient: dW (Cout x K) = dy (Cout x N, batch layout) patches^T.
			dy := randF32(cout*N, rng)
			dyRow := make([]float32, cout*N) // dy as a row-major Cout x N matrix
			for i := 0; i < cout; i++ {
				for c := 0; c < N; c++ {
					dyRow[i*N+c] = dy[((c/hw)*cout+i)*hw+c%hw]
				}
			}
			want = naiveGEMM(false, true, cout, K, N, dyRow, N, ref, N, 0, make([]float32, cout*K), K)
			dw := make([]float32, cout*K)
			sgemmLayout(kern, batchLayout{a: hw, patches: pt}, false, true, cout, K, N, dy, 0, nil, 0, 0, dw, K)
			for i := range dw {
				if d := math.Abs(float64(dw[i])-want[i]) / (1 + math.Sqrt(float64(N))); d > 1e-5 {
					t.Fatalf("%s weight gradient: dW[%d] = %v, want %v", name, i, dw[i], want[i])
				}
			}
		}
	}
}
