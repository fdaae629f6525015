package mmd

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBlockMMD2(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	x, y := randPoints(r, 103, 5, 0), randPoints(r, 90, 5, 0.5)
	est, err := KID(x, y, 4)
	if err != nil {
		t.Fatal(err)
	}
	if est.SizeX != 25 || est.SizeY != 22 || len(est.Blocks) != 4 {
		t.Fatalf("block sizes %d, %d, %d blocks", est.SizeX, est.SizeY, len(est.Blocks))
	}
	var mean float64
	for b := range 4 {
		xb := Points{Data: x.Data[b*25*5 : (b+1)*25*5], Dim: 5}
		yb := Points{Data: y.Data[b*22*5 : (b+1)*22*5], Dim: 5}
		want := naiveMMD2(KIDKernel(), xb, yb, true)
		if math.Abs(est.Blocks[b]-want) > 1e-12 {
			t.Errorf("block %d: %g, want %g", b, est.Blocks[b], want)
		}
		mean += want / 4
	}
	var ss float64
	for _, v := range est.Blocks {
		ss += (v - mean) * (v - mean)
	}
	if se := math.Sqrt(ss/3) / 2; math.Abs(est.Mean-mean) > 1e-14 || math.Abs(est.StdErr-se) > 1e-14 {
		t.Errorf("mean, stderr = %g, %g; want %g, %g", est.Mean, est.StdErr, mean, se)
	}
}

func TestKIDSeparates(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	a, b := randPoints(r, 2000, 8, 0), randPoints(r, 2000, 8, 0)
	c := randPoints(r, 2000, 8, 0.3)
	same, err := KID(a, b, 10)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(same.Mean) > 3*same.StdErr {
		t.Errorf("same distribution: KID %g +- %g is not within 3 standard errors of 0", same.Mean, same.StdErr)
	}
	diff, err := KID(a, c, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff.Mean < 5*diff.StdErr {
		t.Errorf("shifted distribution: KID %g +- %g is not 5 standard errors above 0", diff.Mean, diff.StdErr)
	}
}

func TestBlockMMD2Errors(t *testing.T) {
	x := Points{Data: make([]float64, 10), Dim: 2}
	if _, err := KID(x, x, 1); !errors.Is(err, ErrParam) {
		t.Errorf("1 block: %v", err)
	}
	if _, err := KID(x, x, 3); !errors.Is(err, ErrEmpty) {
		t.Errorf("3 blocks of 5 points: %v", err)
	}
	if _, err := BlockMMD2(nil, x, x, 2); !errors.Is(err, ErrParam) {
		t.Errorf("nil kernel: %v", err)
	}
}
