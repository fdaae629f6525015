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
	{2, 1, 7, 5, 5, 3, 2}, {4, 5, 16, 16, 3, 2, 1}, {3, 3, 14, 14, 3, 2, 1}, {2, 2, 18, 18, 3, 1, 1},
	{5, 2, 2, 2, 3, 2, 1},
}

// TestPatchesProducts: the convolution W patches (C in the batch layout) and the weight gradient dy patches^T
// (A in the batch layout) with the patches packed on the fly equal the products with the patch matrix built by
// its definition, for every kernel, strides, paddings, kernel sizes and ragged positions per sample, with the
// rows read run by run and (Prepare) through the gather table; and every segment of a row read alone is the
// definition's.
func TestPatchesProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 2 * len(patchCases) {
		tc := patchCases[i/2]
		pt := newPatches(tc.b, tc.c, tc.h, tc.w, tc.k, tc.s, tc.pad, rng)
		if i%2 == 1 {
			pt.Prepare()
			if table := tc.s != 1 || pt.Wo < 16; table != (len(pt.tab) > 0) {
				t.Errorf("%+v: Prepare built a table: %v, want %v", tc, len(pt.tab) > 0, table)
			}
		}
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
			name := fmt.Sprintf("%+v prepared %v %s %dx%d", tc, i%2 == 1, kern.name, kern.mr, kern.nr)
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

// TestPatchesStaleTable: a Patches given a new geometry after Prepare (as a conv node's reused scratch is) does not
// read through the old table, and Prepare rebuilds it.
func TestPatchesStaleTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	pt := newPatches(3, 2, 7, 7, 3, 2, 1, rng)
	pt.Prepare()
	other := newPatches(2, 3, 6, 5, 3, 1, 0, rng)
	pt.X, pt.B, pt.C, pt.H, pt.W = other.X, other.B, other.C, other.H, other.W
	pt.KH, pt.KW, pt.Stride, pt.Pad, pt.Ho, pt.Wo = other.KH, other.KW, other.Stride, other.Pad, other.Ho, other.Wo
	for _, prepare := range []bool{false, true} {
		if prepare {
			pt.Prepare()
		}
		ref := naivePatches(pt)
		K, N := pt.Rows(), pt.Cols()
		got := make([]float32, N)
		for r := 0; r < K; r++ {
			pt.row(r, 0, got)
			for c, v := range got {
				if v != ref[r*N+c] {
					t.Fatalf("prepared %v: row %d column %d: %v, want %v", prepare, r, c, v, ref[r*N+c])
				}
			}
		}
	}
}
