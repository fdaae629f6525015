package ops

import "unsafe"

// Runs counts the runs of one compiled graph. Ops built with it (ConvIn and the ops Gorgonia derives from them)
// share work within a run: a convolution and the weight gradient of the same input compute the input's patch
// matrix (im2col) once. The owner of the graph calls Next before every run; a share is trusted only within the
// run that published it, for the same input buffer and the same geometry, so a stale or foreign patch matrix is
// never read, whatever order the ops run in.
type Runs struct{ gen uint64 }

// Next starts a new run.
func (r *Runs) Next() { r.gen++ }

// colsShare is the patch matrix of one input, published by whichever of its ops ran first in the current run.
type colsShare struct {
	runs *Runs
	gen  uint64         // the run that published cols
	x    unsafe.Pointer // the input buffer it was computed from
	n    int            // and its length
	g    convGeom
	cols any // []float32 or []float64, owned by the publishing op
}

// newShare returns a new share of the graph counted by r, or nil (no sharing) for a nil r.
func (r *Runs) newShare() *colsShare {
	if r == nil {
		return nil
	}
	return &colsShare{runs: r}
}

// runsOf is the run counter of a share (nil for nil).
func (s *colsShare) runsOf() *Runs {
	if s == nil {
		return nil
	}
	return s.runs
}

func (s *colsShare) lookup(g *convGeom, x any) (any, bool) {
	if s == nil || s.cols == nil || s.runs.gen == 0 || s.gen != s.runs.gen || s.g != *g {
		return nil, false
	}
	p, n := bufferOf(x)
	if p != s.x || n != s.n {
		return nil, false
	}
	return s.cols, true
}

func (s *colsShare) publish(g *convGeom, x any, cols any) {
	if s == nil {
		return
	}
	s.gen, s.g, s.cols = s.runs.gen, *g, cols
	s.x, s.n = bufferOf(x)
}

// bufferOf returns the address and length of a float slice.
func bufferOf(x any) (unsafe.Pointer, int) {
	switch v := x.(type) {
	case []float32:
		return unsafe.Pointer(unsafe.SliceData(v)), len(v)
	case []float64:
		return unsafe.Pointer(unsafe.SliceData(v)), len(v)
	}
	return nil, 0
}
