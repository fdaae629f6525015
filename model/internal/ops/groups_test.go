package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradGraph builds a graph with the given inputs, applies f and returns the output's values and the gradient of
// <f(inputs), w> with respect to every input: the op's vector-Jacobian product with upstream w, assembled by
// Gorgonia from the op's SymDiff. The output is flattened to (1, N) before the product with w (a (1, N) tensor),
// so only this package's ops and 2-D reductions are involved.
func gradGraph(t *testing.T, f func(in []*G.Node) (*G.Node, error), w []float64, inputs ...*tensor.Dense) ([]float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	var nodes G.Nodes
	for i, in := range inputs {
		nodes = append(nodes, G.NewTensor(g, in.Dtype(), in.Dims(), G.WithShape(in.Shape()...),
			G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(in)))
	}
	e := &Chain{}
	y := e.Op(f(nodes))
	if e.Err != nil {
		t.Fatal(e.Err)
	}
	flat := e.Op(G.Reshape(y, tensor.Shape{1, len(w)}))
	wn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(1, len(w)), G.WithName("w"), G.WithValue(dense64([]int{1, len(w)}, w)))
	cost := e.Op(G.Sum(e.Op(Hadamard(flat, wn))))
	if e.Err != nil {
		t.Fatal(e.Err)
	}
	grads, err := G.Grad(cost, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	G.Read(y, &yv)
	gv := make([]G.Value, len(grads))
	for i := range grads {
		G.Read(grads[i], &gv[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vals := func(v G.Value) []float64 { return append([]float64(nil), v.(*tensor.Dense).Data().([]float64)...) }
	out := make([][]float64, len(gv))
	for i, v := range gv {
		out[i] = vals(v)
	}
	return vals(yv), out
}

// TestGroupedOps checks the grouped forms of addBias, its bias gradient sumBias, sumRows (sumGroups) and
// broadcastRows, and the elementwise product, each against plain loops, through compiled graphs: the values, and
// the vector-Jacobian products Gorgonia assembles from their SymDiffs (which must be the loops' adjoints).
func TestGroupedOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
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
	for _, tc := range []struct{ b, c, h, w, groups int }{
		{6, 4, 5, 3, 3}, {4, 2, 1, 1, 4}, {8, 3, 2, 2, 2}, {5, 3, 2, 3, 1},
	} {
		name := fmt.Sprintf("%+v", tc)
		b, c, r, gs := tc.b, tc.c, tc.h*tc.w, tc.groups
		per := b / gs
		x := randSlice(b*c*r, rng)
		shared := randSlice(c, rng)
		grouped := randSlice(gs*c, rng)
		up := randSlice(b*c*r, rng)

		// addBias on a 4-D x with a shared (C) bias and a grouped (G, C) bias; on a 2-D x with a grouped bias.
		y, g := gradGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1], in[2]) }, up,
			dense64([]int{b, c, tc.h, tc.w}, x), dense64([]int{c}, shared), dense64([]int{gs, c}, grouped))
		want := make([]float64, len(x))
		wantShared, wantGrouped := make([]float64, c), make([]float64, gs*c)
		for i := range x {
			bi, ch := i/(c*r), i/r%c
			want[i] = x[i] + shared[ch] + grouped[bi/per*c+ch]
			wantShared[ch] += up[i]
			wantGrouped[bi/per*c+ch] += up[i]
		}
		check(name+" addBias 4-D", y, want, 1e-15)
		check(name+" addBias d/dx", g[0], up, 0)
		check(name+" addBias d/dshared (sumBias)", g[1], wantShared, 1e-12)
		check(name+" addBias d/dgrouped (grouped sumBias)", g[2], wantGrouped, 1e-12)
		x2, up2 := x[:b*c], up[:b*c]
		y, g = gradGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) }, up2,
			dense64([]int{b, c}, x2), dense64([]int{gs, c}, grouped))
		want, wantGrouped = make([]float64, b*c), make([]float64, gs*c)
		for i := range x2 {
			want[i] = x2[i] + grouped[i/c/per*c+i%c]
			wantGrouped[i/c/per*c+i%c] += up2[i]
		}
		check(name+" addBias 2-D", y, want, 1e-15)
		check(name+" addBias 2-D d/dgrouped", g[1], wantGrouped, 1e-12)

		// sumGroups (B, F) -> (G, F) and broadcastRows (G, F) -> (B, F), adjoint to each other.
		f := c * r
		v := randSlice(gs*f, rng)
		upG := randSlice(gs*f, rng)
		y, g = gradGraph(t, func(in []*G.Node) (*G.Node, error) { return SumGroups(in[0], gs) }, upG, dense64([]int{b, f}, x))
		want = make([]float64, gs*f)
		wantX := make([]float64, b*f)
		for i := range x {
			bi, j := i/f, i%f
			want[bi/per*f+j] += x[i]
			wantX[i] = upG[bi/per*f+j]
		}
		check(name+" sumGroups", y, want, 1e-12)
		check(name+" sumGroups d/dx (broadcastRows)", g[0], wantX, 0)
		y, g = gradGraph(t, func(in []*G.Node) (*G.Node, error) { return BroadcastRows(in[0], b) }, up, dense64([]int{gs, f}, v))
		want = make([]float64, b*f)
		wantV := make([]float64, gs*f)
		for i := range want {
			bi, j := i/f, i%f
			want[i] = v[bi/per*f+j]
			wantV[bi/per*f+j] += up[i]
		}
		check(name+" broadcastRows", y, want, 0)
		check(name+" broadcastRows d/dv (sumGroups)", g[0], wantV, 1e-12)
		// The adjoint identity <SumGroups(x), v> = <x, BroadcastRows(v)>, on the op outputs themselves.
		sx, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SumGroups(in[0], gs) }, dense64([]int{b, f}, x))
		bv, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return BroadcastRows(in[0], b) }, dense64([]int{gs, f}, v))
		if l, r := dot(sx, v), dot(x, bv); absRel(l, r) > 1e-12 {
			t.Errorf("%s: <SumGroups(x), v> = %v but <x, BroadcastRows(v)> = %v", name, l, r)
		}
		// The same for addBias in its grouped bias (x = 0) and sumBias.
		zero := make([]float64, b*c*r)
		ab, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) },
			dense64([]int{b, c, tc.h, tc.w}, zero), dense64([]int{gs, c}, grouped))
		sb, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) {
			return G.ApplyOp(&sumBiasOp{inDims: 4, shape: tensor.Shape{gs, c}}, in[0])
		}, dense64([]int{b, c, tc.h, tc.w}, up))
		if l, r := dot(ab, up), dot(grouped, sb); absRel(l, r) > 1e-12 {
			t.Errorf("%s: <AddBias(0, bias), u> = %v but <bias, sumBias(u)> = %v", name, l, r)
		}

		// hadamard and its two partial VJPs.
		a2 := randSlice(len(x), rng)
		y, g = gradGraph(t, func(in []*G.Node) (*G.Node, error) { return Hadamard(in[0], in[1]) }, up,
			dense64([]int{b, c, tc.h, tc.w}, x), dense64([]int{b, c, tc.h, tc.w}, a2))
		want, wantA, wantB := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
		for i := range x {
			want[i], wantA[i], wantB[i] = x[i]*a2[i], up[i]*a2[i], up[i]*x[i]
		}
		check(name+" hadamard", y, want, 0)
		check(name+" hadamard d/da", g[0], wantA, 0)
		check(name+" hadamard d/db", g[1], wantB, 0)
	}

	// float32 values of the grouped ops agree with float64.
	const b, c, gs = 6, 5, 3
	x, bias := randSlice(b*c, rng), randSlice(gs*c, rng)
	d32 := func(shape []int, v []float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(to32(v)))
	}
	y64, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) }, dense64([]int{b, c}, x), dense64([]int{gs, c}, bias))
	y32, _ := evalGraph(t, func(in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) }, d32([]int{b, c}, x), d32([]int{gs, c}, bias))
	check("float32 addBias", y32, y64, 1e-6)
	y64, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SumGroups(in[0], gs) }, dense64([]int{b, c}, x))
	y32, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return SumGroups(in[0], gs) }, d32([]int{b, c}, x))
	check("float32 sumGroups", y32, y64, 1e-5)
	y64, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return BroadcastRows(in[0], b) }, dense64([]int{gs, c}, bias))
	y32, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return BroadcastRows(in[0], b) }, d32([]int{gs, c}, bias))
	check("float32 broadcastRows", y32, y64, 1e-6)
	y64, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return Hadamard(in[0], in[1]) }, dense64([]int{b, c}, x), dense64([]int{b, c}, x))
	y32, _ = evalGraph(t, func(in []*G.Node) (*G.Node, error) { return Hadamard(in[0], in[1]) }, d32([]int{b, c}, x), d32([]int{b, c}, x))
	check("float32 hadamard", y32, y64, 1e-5)
}

func absRel(a, b float64) float64 {
	d := a - b
	if d < 0 {
		d = -d
	}
	s := a
	if s < 0 {
		s = -s
	}
	return d / max(1, s)
}

// TestGroupedOpShapes checks that the grouped ops refuse groups that do not divide the rows.
func TestGroupedOpShapes(t *testing.T) {
	g := G.NewGraph()
	m := func(r, c int) *G.Node { return G.NewMatrix(g, tensor.Float64, G.WithShape(r, c)) }
	for _, tc := range []struct {
		name string
		f    func() (*G.Node, error)
	}{
		{"addBias (4, C) bias on 6 rows", func() (*G.Node, error) { return AddBias(m(6, 3), m(4, 3)) }},
		{"addBias (G, C') bias", func() (*G.Node, error) { return AddBias(m(6, 3), m(2, 4)) }},
		{"addBias (C, 1) bias", func() (*G.Node, error) { return AddBias(m(6, 3), m(3, 1)) }},
		{"sumGroups of 6 rows into 4", func() (*G.Node, error) { return SumGroups(m(6, 3), 4) }},
		{"sumGroups into 0", func() (*G.Node, error) { return SumGroups(m(6, 3), 0) }},
		{"broadcastRows of 4 rows to 6", func() (*G.Node, error) { return BroadcastRows(m(4, 3), 6) }},
		{"hadamard of different shapes", func() (*G.Node, error) { return Hadamard(m(4, 3), m(3, 4)) }},
	} {
		if _, err := tc.f(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
