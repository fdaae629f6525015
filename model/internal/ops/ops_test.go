package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/dmmd/dmmd/model/internal/testutil"
)

// naiveConv is a direct 6-loop convolution: y[b,o,i,j] = sum_{c,p,q} x[b,c,i*s-pad+p, j*s-pad+q] w[o,c,p,q].
func naiveConv(x []float64, b, c, h, w int, wt []float64, o, kh, kw, s, pad int) ([]float64, int, int) {
	ho, wo := (h+2*pad-kh)/s+1, (w+2*pad-kw)/s+1
	y := make([]float64, b*o*ho*wo)
	for bi := 0; bi < b; bi++ {
		for oi := 0; oi < o; oi++ {
			for i := 0; i < ho; i++ {
				for j := 0; j < wo; j++ {
					var acc float64
					for ci := 0; ci < c; ci++ {
						for p := 0; p < kh; p++ {
							for q := 0; q < kw; q++ {
								ih, iw := i*s-pad+p, j*s-pad+q
								if ih >= 0 && ih < h && iw >= 0 && iw < w {
									acc += x[((bi*c+ci)*h+ih)*w+iw] * wt[((oi*c+ci)*kh+p)*kw+q]
								}
							}
						}
					}
					y[((bi*o+oi)*ho+i)*wo+j] = acc
				}
			}
		}
	}
	return y, ho, wo
}

// Numeric helpers shared with the network-level tests of model through internal/testutil.
var (
	randSlice = testutil.RandSlice
	dot       = testutil.Dot
	to64      = testutil.To64
)

func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

var convCases = []struct{ b, c, h, w, o, k, s, pad int }{
	{2, 3, 16, 16, 9, 3, 1, 1}, // whole 8x32 tiles of the GEMM kernel, in the batch layout
	{3, 8, 8, 8, 16, 3, 2, 1},  // 16 positions per sample: tiles cross samples
	{2, 1, 7, 5, 2, 5, 3, 2},   // 5x5 kernel, stride 3, padding 2
	{1, 1, 5, 5, 1, 3, 1, 1},
	{2, 3, 8, 8, 4, 3, 1, 1},
	{2, 3, 8, 8, 4, 3, 2, 1},
	{3, 2, 7, 7, 5, 3, 2, 1}, // odd size, strided
	{2, 4, 6, 6, 3, 1, 2, 0}, // 1x1 skip
	{2, 2, 9, 6, 3, 3, 1, 0}, // no padding, non-square
	{1, 2, 4, 4, 2, 3, 2, 1},
	{1, 2, 18, 18, 2, 3, 1, 1}, // long contiguous rows: col2im without the gather table
	{3, 2, 2, 2, 3, 3, 2, 1},   // 2x2 -> 1x1, as the extra levels
}

// TestConvKernels checks the forward, input-gradient and weight-gradient kernels against the direct loop and
// the adjoint identities <Conv(x, w), g> = <x, ConvT(g, w)> = <w, ConvW(x, g)>.
//
// One float32 and one float64 scratch also serve every case in turn, as a node's scratch would if its geometry
// changed: their results equal the fresh scratch's bit for bit (a stale gather table would not).
func TestConvKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var shared32 convScratch[float32]
	var shared64 convScratch[float64]
	for _, tc := range convCases {
		name := fmt.Sprintf("%+v", tc)
		g := newConvGeom(tc.b, tc.c, tc.h, tc.w, tc.o, tc.k, tc.k, tc.s, tc.pad)
		x := randSlice(tc.b*tc.c*tc.h*tc.w, rng)
		w := randSlice(tc.o*tc.c*tc.k*tc.k, rng)
		want, ho, wo := naiveConv(x, tc.b, tc.c, tc.h, tc.w, w, tc.o, tc.k, tc.k, tc.s, tc.pad)
		if ho != g.Ho || wo != g.Wo {
			t.Fatalf("%s: geometry %dx%d, want %dx%d", name, g.Ho, g.Wo, ho, wo)
		}
		var s convScratch[float64]
		y := make([]float64, len(want))
		convForward(&g, x, w, y, &s, nil)
		if d := maxAbsDiff(y, want); d > 1e-12 {
			t.Errorf("%s: forward differs from the direct loop by %g", name, d)
		}
		gy := randSlice(len(y), rng)
		dx := make([]float64, len(x))
		convInputGrad(&g, gy, w, dx, &s)
		dw := make([]float64, len(w))
		convWeightGrad(&g, x, gy, dw, &s, nil)
		lhs := dot(want, gy)
		if r := dot(x, dx); math.Abs(r-lhs) > 1e-10*math.Max(1, math.Abs(lhs)) {
			t.Errorf("%s: <Conv(x,w), g> = %v but <x, ConvT(g,w)> = %v", name, lhs, r)
		}
		if r := dot(w, dw); math.Abs(r-lhs) > 1e-10*math.Max(1, math.Abs(lhs)) {
			t.Errorf("%s: <Conv(x,w), g> = %v but <w, ConvW(x,g)> = %v", name, lhs, r)
		}
		// Each entry of dx and dw against the direct loop's partial derivatives (unit perturbations).
		for _, i := range []int{0, len(x) / 2, len(x) - 1} {
			e := make([]float64, len(x))
			e[i] = 1
			col, _, _ := naiveConv(e, tc.b, tc.c, tc.h, tc.w, w, tc.o, tc.k, tc.k, tc.s, tc.pad)
			if d := math.Abs(dot(col, gy) - dx[i]); d > 1e-12 {
				t.Errorf("%s: dx[%d] off by %g", name, i, d)
			}
		}
		for _, i := range []int{0, len(w) / 2, len(w) - 1} {
			e := make([]float64, len(w))
			e[i] = 1
			col, _, _ := naiveConv(x, tc.b, tc.c, tc.h, tc.w, e, tc.o, tc.k, tc.k, tc.s, tc.pad)
			if d := math.Abs(dot(col, gy) - dw[i]); d > 1e-12 {
				t.Errorf("%s: dw[%d] off by %g", name, i, d)
			}
		}
		// float32 agrees with float64 to float32 precision.
		var s32 convScratch[float32]
		x32, w32 := to32(x), to32(w)
		y32 := make([]float32, len(y))
		convForward(&g, x32, w32, y32, &s32, nil)
		if d := maxAbsDiff(to64(y32), y); d > 1e-4 {
			t.Errorf("%s: float32 forward differs by %g", name, d)
		}
		// The float32 adjoints (which read and write the batch layout in place where the GEMM kernel runs).
		dx32, dw32 := make([]float32, len(dx)), make([]float32, len(dw))
		convInputGrad(&g, to32(gy), w32, dx32, &s32)
		convWeightGrad(&g, x32, to32(gy), dw32, &s32, nil)
		if d := maxAbsDiff(to64(dx32), dx); d > 1e-4 {
			t.Errorf("%s: float32 input gradient differs by %g", name, d)
		}
		if d := maxAbsDiff(to64(dw32), dw); d > 1e-4 {
			t.Errorf("%s: float32 weight gradient differs by %g", name, d)
		}
		again32, again64 := make([]float32, len(dx)), make([]float64, len(dx))
		convInputGrad(&g, to32(gy), w32, again32, &shared32)
		convInputGrad(&g, gy, w, again64, &shared64)
		if !slices.Equal(again32, dx32) || !slices.Equal(again64, dx) {
			t.Errorf("%s: the input gradient with a scratch used for other geometries differs", name)
		}
	}
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

// evalGraph builds a graph with the given float64 inputs, applies f and returns the output's values and shape.
func evalGraph(t *testing.T, f func(in []*G.Node) (*G.Node, error), inputs ...*tensor.Dense) ([]float64, tensor.Shape) {
	t.Helper()
	g := G.NewGraph()
	var nodes []*G.Node
	for i, in := range inputs {
		nodes = append(nodes, G.NewTensor(g, in.Dtype(), in.Dims(), G.WithShape(in.Shape()...),
			G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(in)))
	}
	out, err := f(nodes)
	if err != nil {
		t.Fatal(err)
	}
	var v G.Value
	G.Read(out, &v)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case *tensor.Dense:
		switch d := v.Data().(type) {
		case []float64:
			return append([]float64(nil), d...), v.Shape()
		case []float32:
			return to64(d), v.Shape()
		}
	case *G.F64:
		return []float64{float64(*v)}, tensor.Shape{}
	case *G.F32:
		return []float64{float64(*v)}, tensor.Shape{}
	}
	t.Fatalf("unexpected output %T", v)
	return nil, nil
}

func dense64(shape []int, v []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// TestConvOpsInGraph runs the three convolution ops through compiled Gorgonia graphs.
func TestConvOpsInGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tc := range convCases {
		x := randSlice(tc.b*tc.c*tc.h*tc.w, rng)
		w := randSlice(tc.o*tc.c*tc.k*tc.k, rng)
		want, ho, wo := naiveConv(x, tc.b, tc.c, tc.h, tc.w, w, tc.o, tc.k, tc.k, tc.s, tc.pad)
		xs, ws, ys := []int{tc.b, tc.c, tc.h, tc.w}, []int{tc.o, tc.c, tc.k, tc.k}, []int{tc.b, tc.o, ho, wo}
		got, shape := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return Conv(in[0], in[1], tc.s, tc.pad) },
			dense64(xs, x), dense64(ws, w))
		if !shape.Eq(tensor.Shape(ys)) || maxAbsDiff(got, want) > 1e-12 {
			t.Errorf("%+v: conv op shape %v, diff %g", tc, shape, maxAbsDiff(got, want))
		}
		gy := randSlice(len(want), rng)
		dx, shape := evalGraph(t, func(in []*G.Node) (*G.Node, error) {
			return ConvT(in[0], in[1], tc.s, tc.pad, tc.h, tc.w)
		}, dense64(ys, gy), dense64(ws, w))
		if !shape.Eq(tensor.Shape(xs)) || math.Abs(dot(dx, x)-dot(gy, want)) > 1e-10*math.Max(1, math.Abs(dot(gy, want))) {
			t.Errorf("%+v: convT op is not the adjoint (shape %v)", tc, shape)
		}
		dw, shape := evalGraph(t, func(in []*G.Node) (*G.Node, error) {
			return ConvW(in[0], in[1], tc.s, tc.pad, tc.k, tc.k)
		}, dense64(xs, x), dense64(ys, gy))
		if !shape.Eq(tensor.Shape(ws)) || math.Abs(dot(dw, w)-dot(gy, want)) > 1e-10*math.Max(1, math.Abs(dot(gy, want))) {
			t.Errorf("%+v: convW op is not the weight adjoint (shape %v)", tc, shape)
		}
	}
}

func TestMatMulOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const m, n, k = 3, 4, 5
	a, b := randSlice(m*k, rng), randSlice(k*n, rng)
	want := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			for l := 0; l < k; l++ {
				want[i*n+j] += a[i*k+l] * b[l*n+j]
			}
		}
	}
	transpose := func(s []float64, r, c int) []float64 {
		o := make([]float64, len(s))
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				o[j*r+i] = s[i*c+j]
			}
		}
		return o
	}
	for _, tc := range []struct{ tA, tB bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		av, as := a, []int{m, k}
		if tc.tA {
			av, as = transpose(a, m, k), []int{k, m}
		}
		bv, bs := b, []int{k, n}
		if tc.tB {
			bv, bs = transpose(b, k, n), []int{n, k}
		}
		got, shape := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return MatMul(in[0], in[1], tc.tA, tc.tB) },
			dense64(as, av), dense64(bs, bv))
		if !shape.Eq(tensor.Shape{m, n}) || maxAbsDiff(got, want) > 1e-12 {
			t.Errorf("%+v: shape %v, diff %g", tc, shape, maxAbsDiff(got, want))
		}
	}
	if _, err := G.ApplyOp(&matMulOp{}, G.NewMatrix(G.NewGraph(), tensor.Float64, G.WithShape(2, 3)),
		G.NewMatrix(G.NewGraph(), tensor.Float64, G.WithShape(2, 3))); err == nil {
		t.Error("matmul accepted mismatched inner dimensions")
	}
}

// TestReductionsAgainstLoops checks every reduction, broadcast and pooling the network and loss use, ours and
// Gorgonia's, against plain Go loops (../shared/notes/gorgonia.md lists silent Gorgonia reduction bugs).
func TestReductionsAgainstLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const b, c, h, w = 3, 4, 5, 6
	x4 := randSlice(b*c*h*w, rng)
	x2 := randSlice(b*c, rng)
	bias := randSlice(c, rng)
	bias2 := randSlice(c, rng)
	row := randSlice(c, rng)
	big := randSlice(b*3072, rng)

	check := func(name string, got, want []float64, tol float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d values, want %d", name, len(got), len(want))
			return
		}
		if d := maxAbsDiff(got, want); d > tol {
			t.Errorf("%s: differs from the loop by %g", name, d)
		}
	}

	// sumRows: (B, C) -> (1, C).
	got, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SumRows(in[0]) }, dense64([]int{b, c}, x2))
	want := make([]float64, c)
	for i := 0; i < b; i++ {
		for j := 0; j < c; j++ {
			want[j] += x2[i*c+j]
		}
	}
	check("sumRows", got, want, 1e-12)

	// broadcastRows: (1, C) -> (B, C).
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return BroadcastRows(in[0], b) }, dense64([]int{1, c}, row))
	want = nil
	for i := 0; i < b; i++ {
		want = append(want, row...)
	}
	check("broadcastRows", got, want, 0)

	// addBias (4-D, two biases) and sumBias.
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1], in[2]) },
		dense64([]int{b, c, h, w}, x4), dense64([]int{c}, bias), dense64([]int{1, c}, bias2))
	want = make([]float64, len(x4))
	for i := range x4 {
		ch := i / (h * w) % c
		want[i] = x4[i] + bias[ch] + bias2[ch]
	}
	check("addBias 4-D", got, want, 1e-15)
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) {
		return G.ApplyOp(&sumBiasOp{inDims: 4, shape: tensor.Shape{c}}, in[0])
	}, dense64([]int{b, c, h, w}, x4))
	want = make([]float64, c)
	for i := range x4 {
		want[i/(h*w)%c] += x4[i]
	}
	check("sumBias 4-D", got, want, 1e-12)
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) },
		dense64([]int{b, c}, x2), dense64([]int{c}, bias))
	want = make([]float64, len(x2))
	for i := range x2 {
		want[i] = x2[i] + bias[i%c]
	}
	check("addBias 2-D", got, want, 1e-15)

	// spatialMean and spatialSpread.
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SpatialMean(in[0]) }, dense64([]int{b, c, h, w}, x4))
	want = make([]float64, b*c)
	for i := range x4 {
		want[i/(h*w)] += x4[i] / (h * w)
	}
	check("spatialMean", got, want, 1e-12)
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SpatialSpread(in[0], h, w) }, dense64([]int{b, c}, x2))
	want = make([]float64, b*c*h*w)
	for i := range want {
		want[i] = x2[i/(h*w)] / (h * w)
	}
	check("spatialSpread", got, want, 1e-15)

	// Gorgonia's Sum over everything, of a square.
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) {
		sq, err := G.Square(in[0])
		if err != nil {
			return nil, err
		}
		return G.Sum(sq)
	}, dense64([]int{b, c}, x2))
	check("Sum(Square) 2-D", got, []float64{dot(x2, x2)}, 1e-12)

	// Gorgonia's Sum along axis 1 of a (B, 3072) matrix, then Sqrt and Mean (the gradient norms).
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) {
		sq, err := G.Square(in[0])
		if err != nil {
			return nil, err
		}
		return G.Sum(sq, 1)
	}, dense64([]int{b, 3072}, big))
	want = make([]float64, b)
	for i := range big {
		want[i/3072] += big[i] * big[i]
	}
	check("Sum(Square, axis 1)", got, want, 1e-9)
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) {
		s, err := G.Sqrt(in[0])
		if err != nil {
			return nil, err
		}
		return G.Mean(s)
	}, dense64([]int{b}, want))
	var m float64
	for _, v := range want {
		m += math.Sqrt(v) / b
	}
	check("Mean(Sqrt)", got, []float64{m}, 1e-12)

	// Gorgonia's Reshape from 4-D to 2-D keeps the row-major order.
	got, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return G.Reshape(in[0], tensor.Shape{b, c * h * w}) },
		dense64([]int{b, c, h, w}, x4))
	check("Reshape", got, x4, 0)
}

func TestSiLUDerivatives(t *testing.T) {
	xs := []float64{-30, -5, -1.3, -0.2, 0, 0.4, 1, 3.7, 30}
	f := func(x float64) float64 { return x * sigmoid(x) }
	in := dense64([]int{len(xs)}, xs)
	ones := make([]float64, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	d1, _ := evalGraph(t, func(n []*G.Node) (*G.Node, error) { return SiLUBack(n[1], n[0]) }, in, dense64([]int{len(xs)}, ones))
	d2, _ := evalGraph(t, func(n []*G.Node) (*G.Node, error) { return siluBack2(n[1], n[1], n[0]) }, in, dense64([]int{len(xs)}, ones))
	y, _ := evalGraph(t, func(n []*G.Node) (*G.Node, error) { return SiLU(n[0]) }, in)
	for i, x := range xs {
		const h = 1e-5
		if math.Abs(y[i]-f(x)) > 1e-15*math.Max(1, math.Abs(x)) {
			t.Errorf("SiLU(%v) = %v, want %v", x, y[i], f(x))
		}
		fd1 := (f(x+h) - f(x-h)) / (2 * h)
		if math.Abs(d1[i]-fd1) > 1e-8 {
			t.Errorf("dsilu(%v) = %v, finite difference %v", x, d1[i], fd1)
		}
		df := func(x float64) float64 { s := sigmoid(x); return s * (1 + x*(1-s)) }
		fd2 := (df(x+h) - df(x-h)) / (2 * h)
		if math.Abs(d2[i]-fd2) > 1e-8 {
			t.Errorf("d2silu(%v) = %v, finite difference %v", x, d2[i], fd2)
		}
	}
}
