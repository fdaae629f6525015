package sample

import (
	"fmt"

	"github.com/dmmd/dmmd/data"
)

// Critic is what the flow needs from a trained noise-conditional feature network phi(z; t).
type Critic interface {
	// Shape is the particle (image) shape; Dim = c*h*w.
	Shape() (c, h, w int)
	// FeatureDim is D, the number of features.
	FeatureDim() int
	// Features writes phi(z_i; t) for the n = len(z)/Dim particles into out (n*D, row-major).
	Features(z []float32, t float64, out []float32) error
	// WitnessGrad writes grad_{z_i} <phi(z_i; t), dir_i> into out (n*Dim), where dirs has length D (one direction
	// shared by all particles) or n*D (one per particle). phi's input gradient only: dirs are constants.
	WitnessGrad(z []float32, t float64, dirs []float32, out []float32) error
}

// ExactCritic is a Critic that can take the witness-gradient pass of an exact-flow step for a whole group in one
// pass: the features of all n particles, their leave-one-out directions
// m_P - (sum_j phi(z_j; t) - phi(z_i; t)) / (n - 1) (summed in float64 in index order) and the gradients along
// them, from one forward pass where Features and WitnessGrad take two. Its results must equal those of Features
// and WitnessGrad bit for bit (model.Critic's do).
type ExactCritic interface {
	Critic
	// ExactWitnessGrad writes the n = len(z)/Dim >= 2 particles' gradients into out (n*Dim); mp is m_P (D values).
	ExactWitnessGrad(z []float32, t float64, mp []float64, out []float32) error
}

// OnePassMax is the largest group an exact flow hands to an ExactCritic in one pass when Options.Chunk is
// smaller: the exact flow without noise injection (Options.Noise = 0) runs groups of up to max(Chunk, OnePassMax)
// particles that way, holding the whole group's activations at once (about 450 MB for 256 particles of 32x32x3
// with the small preset); larger groups, and flows with noise injection, run in chunks of Chunk.
const OnePassMax = 256

// CriticShape returns the critic's particle shape.
func CriticShape(c Critic) data.Shape {
	ch, h, w := c.Shape()
	return data.Shape{C: ch, H: h, W: w}
}

// checkCritic validates what the flow and the embeddings rely on.
func checkCritic(c Critic) (data.Shape, int, error) {
	if c == nil {
		return data.Shape{}, 0, fmt.Errorf("sample: nil critic")
	}
	s := CriticShape(c)
	if s.C < 1 || s.H < 1 || s.W < 1 {
		return data.Shape{}, 0, fmt.Errorf("sample: critic shape %v is empty", s)
	}
	d := c.FeatureDim()
	if d < 1 {
		return data.Shape{}, 0, fmt.Errorf("sample: critic feature dimension %d, want >= 1", d)
	}
	return s, d, nil
}

// checkImageShape reports whether images of shape s can be written as 8-bit PNG (1 channel: gray, 3: RGB).
func checkImageShape(s data.Shape) error {
	if s.C != 1 && s.C != 3 {
		return fmt.Errorf("sample: image shape %v: want 1 (gray) or 3 (RGB) channels", s)
	}
	if s.H < 1 || s.W < 1 || s.H > 1<<14 || s.W > 1<<14 {
		return fmt.Errorf("sample: image shape %v: height and width must lie in [1, 16384]", s)
	}
	return nil
}
