package train

import (
	"fmt"
	"math"

	"github.com/dmmd/dmmd/model"
)

// checkFinite stops a diverging run, naming the loss term or gradient tensor that went bad, clips the gradient to
// -grad-clip, and returns the parameter-gradient norm before clipping.
func (t *trainer) checkFinite(st model.Stats, grads *model.Params) (float64, error) {
	for _, term := range []struct {
		name string
		v    float64
	}{{"mmd2", st.MMD2}, {"l2 penalty", st.L2}, {"gradient penalty", st.GradPenalty},
		{"witness gradient norm", st.GradNorm}, {"loss", st.Loss}} {
		if math.IsNaN(term.v) || math.IsInf(term.v, 0) {
			return 0, fmt.Errorf("%w at step %d: the %s is %v (loss %v, mmd2 %v, l2 %v, gradient penalty %v); %s",
				ErrDiverged, t.st.step+1, term.name, term.v, st.Loss, st.MMD2, st.L2, st.GradPenalty,
				t.divergenceAdvice("a lower -lr or a higher -lambda-l2"))
		}
	}
	norm := model.ClipGradNorm(grads, t.cfg.GradClip)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		name := nonFinite(grads)
		if name == "" {
			name = "the parameters (its norm overflows)"
		}
		return 0, fmt.Errorf("%w at step %d: the gradient of %s is not finite (loss %v); %s",
			ErrDiverged, t.st.step+1, name, st.Loss, t.divergenceAdvice("a lower -lr"))
	}
	return norm, nil
}

// nonFinite returns the name of the first tensor of p holding a NaN or an infinity, or "".
func nonFinite(p *model.Params) string {
	for i, spec := range p.Specs() {
		switch v := p.Data(i).(type) {
		case []float32:
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return spec.Name
				}
			}
		case []float64:
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return spec.Name
				}
			}
		}
	}
	return ""
}
