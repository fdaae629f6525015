package ops

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuildErrorsAreErrors checks that a failing node in the middle of a chain comes back as its error, not as a
// panic in the constructors that follow it.
func TestBuildErrorsAreErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
	build := func() (_ *G.Node, err error) {
		e := &Chain{}
		defer e.Guard(&err)
		bad := e.Op(MatMul(x, x, false, false)) // 2x3 times 2x3: inner dimensions differ
		return e.Op(G.Add(e.Op(SiLU(bad)), x)), e.Err
	}
	if _, err := build(); err == nil || !strings.Contains(err.Error(), "inner dimensions differ") {
		t.Errorf("got %v", err)
	}
}
