package mmd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kernel is a positive-definite kernel on R^d.
//
// Eval and AddGrad are hot paths: they do not check their arguments, and x
// and y must have the same length (the functions of this package check
// dimensions before calling them). Call Validate once before use.
type Kernel interface {
	// Eval returns k(x, y).
	Eval(x, y []float64) float64
	// AddGrad adds scale * grad_x k(x, y) to dst, which has len(x) entries.
	AddGrad(dst []float64, scale float64, x, y []float64)
	// Validate reports whether the kernel's parameters are usable.
	Validate() error
	// String describes the kernel and its parameters.
	String() string
}

func sqDist(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, xi := range x {
		d := xi - y[i]
		s += d * d
	}
	return s
}

func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, xi := range x {
		s += xi * y[i]
	}
	return s
}

// addScaledDiff adds c*(x - y) to dst.
func addScaledDiff(dst []float64, c float64, x, y []float64) {
	y = y[:len(x)]
	dst = dst[:len(x)]
	for i, xi := range x {
		dst[i] += c * (xi - y[i])
	}
}

// addScaled adds c*y to dst.
func addScaled(dst []float64, c float64, y []float64) {
	dst = dst[:len(y)]
	for i, yi := range y {
		dst[i] += c * yi
	}
}

func positiveFinite(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// Gaussian is the kernel k(x, y) = exp(-||x - y||^2 / (2 Sigma^2)). The
// width convention exp(-||x - y||^2 / w) of some toolboxes is Sigma =
// sqrt(w/2).
type Gaussian struct {
	Sigma float64
}

// Eval implements Kernel.
func (k Gaussian) Eval(x, y []float64) float64 {
	return math.Exp(-sqDist(x, y) / (2 * k.Sigma * k.Sigma))
}

// AddGrad implements Kernel: grad_x k = -k(x, y) (x - y) / Sigma^2.
func (k Gaussian) AddGrad(dst []float64, scale float64, x, y []float64) {
	s2 := k.Sigma * k.Sigma
	v := math.Exp(-sqDist(x, y) / (2 * s2))
	addScaledDiff(dst, -scale*v/s2, x, y)
}

// Validate implements Kernel.
func (k Gaussian) Validate() error {
	if !positiveFinite(k.Sigma) {
		return fmt.Errorf("mmd: gaussian kernel: sigma = %v, need a positive finite width: %w", k.Sigma, ErrParam)
	}
	return nil
}

func (k Gaussian) String() string { return fmt.Sprintf("gaussian(sigma=%g)", k.Sigma) }

// IMQ is the inverse multiquadric kernel k(x, y) = (C^2 + ||x - y||^2)^Beta
// with C > 0 and Beta < 0 (Beta = -1/2 is the usual choice).
type IMQ struct {
	C    float64
	Beta float64
}

// Eval implements Kernel.
func (k IMQ) Eval(x, y []float64) float64 {
	return math.Pow(k.C*k.C+sqDist(x, y), k.Beta)
}

// AddGrad implements Kernel: grad_x k = 2 Beta (C^2 + r^2)^(Beta-1) (x - y).
func (k IMQ) AddGrad(dst []float64, scale float64, x, y []float64) {
	b := k.C*k.C + sqDist(x, y)
	addScaledDiff(dst, scale*2*k.Beta*math.Pow(b, k.Beta-1), x, y)
}

// Validate implements Kernel.
func (k IMQ) Validate() error {
	if !positiveFinite(k.C) {
		return fmt.Errorf("mmd: imq kernel: c = %v, need c > 0: %w", k.C, ErrParam)
	}
	if !(k.Beta < 0) || math.IsInf(k.Beta, -1) {
		return fmt.Errorf("mmd: imq kernel: beta = %v, need a finite beta < 0: %w", k.Beta, ErrParam)
	}
	return nil
}

func (k IMQ) String() string { return fmt.Sprintf("imq(c=%g, beta=%g)", k.C, k.Beta) }

// MMDGANAlphas returns the rational-quadratic scales of the mixed kernel of
// MMD GAN (Binkowski, Sutherland, Arbel and Gretton, ICLR 2018).
func MMDGANAlphas() []float64 { return []float64{0.2, 0.5, 1, 2, 5} }

// MixedRQ is the mixture of rational-quadratic kernels of MMD GAN,
//
//	k(x, y) = sum_a (1 + ||x - y||^2 / (2a))^(-a)  [+ x.y if Linear],
//
// over the scales a in Alphas (empty means [MMDGANAlphas]). With Linear it is
// the "rq*" kernel of that paper.
type MixedRQ struct {
	Alphas []float64
	Linear bool
}

func (k MixedRQ) alphas() []float64 {
	if len(k.Alphas) == 0 {
		return MMDGANAlphas()
	}
	return k.Alphas
}

// Eval implements Kernel.
func (k MixedRQ) Eval(x, y []float64) float64 {
	r2 := sqDist(x, y)
	var v float64
	for _, a := range k.alphas() {
		v += math.Pow(1+r2/(2*a), -a)
	}
	if k.Linear {
		v += dot(x, y)
	}
	return v
}

// AddGrad implements Kernel: each scale contributes
// -(1 + r^2/(2a))^(-a-1) (x - y); the linear term contributes y.
func (k MixedRQ) AddGrad(dst []float64, scale float64, x, y []float64) {
	r2 := sqDist(x, y)
	var c float64
	for _, a := range k.alphas() {
		c -= math.Pow(1+r2/(2*a), -a-1)
	}
	addScaledDiff(dst, scale*c, x, y)
	if k.Linear {
		addScaled(dst, scale, y)
	}
}

// Validate implements Kernel.
func (k MixedRQ) Validate() error {
	for _, a := range k.Alphas {
		if !positiveFinite(a) {
			return fmt.Errorf("mmd: mixed-rq kernel: alpha = %v, need alphas > 0: %w", a, ErrParam)
		}
	}
	return nil
}

func (k MixedRQ) String() string {
	s := fmt.Sprintf("mixed-rq(alphas=%v", k.alphas())
	if k.Linear {
		s += ", +linear"
	}
	return s + ")"
}

// Linear is the kernel k(x, y) = x.y. Its MMD compares means only.
type Linear struct{}

// Eval implements Kernel.
func (Linear) Eval(x, y []float64) float64 { return dot(x, y) }

// AddGrad implements Kernel: grad_x k = y.
func (Linear) AddGrad(dst []float64, scale float64, _, y []float64) { addScaled(dst, scale, y) }

// Validate implements Kernel.
func (Linear) Validate() error { return nil }

func (Linear) String() string { return "linear" }

// Polynomial is the kernel k(x, y) = (Gamma x.y + Coef0)^Degree. Gamma = 0
// means 1/d, where d is the dimension, so Polynomial{Degree: 3, Coef0: 1} is
// the kernel (x.y/d + 1)^3 of the kernel inception distance (KID).
type Polynomial struct {
	Degree int
	Gamma  float64
	Coef0  float64
}

func (k Polynomial) gamma(d int) float64 {
	if k.Gamma == 0 {
		return 1 / float64(d)
	}
	return k.Gamma
}

// Eval implements Kernel.
func (k Polynomial) Eval(x, y []float64) float64 {
	return powInt(k.gamma(len(x))*dot(x, y)+k.Coef0, k.Degree)
}

// AddGrad implements Kernel: grad_x k = Degree Gamma (Gamma x.y + Coef0)^(Degree-1) y.
func (k Polynomial) AddGrad(dst []float64, scale float64, x, y []float64) {
	g := k.gamma(len(x))
	b := g*dot(x, y) + k.Coef0
	addScaled(dst, scale*float64(k.Degree)*g*powInt(b, k.Degree-1), y)
}

// Validate implements Kernel.
func (k Polynomial) Validate() error {
	if k.Degree < 1 {
		return fmt.Errorf("mmd: polynomial kernel: degree %d, need >= 1: %w", k.Degree, ErrParam)
	}
	if k.Gamma < 0 || math.IsInf(k.Gamma, 0) || math.IsNaN(k.Gamma) {
		return fmt.Errorf("mmd: polynomial kernel: gamma = %v, need >= 0 (0 means 1/d): %w", k.Gamma, ErrParam)
	}
	if k.Coef0 < 0 || math.IsInf(k.Coef0, 0) || math.IsNaN(k.Coef0) {
		return fmt.Errorf("mmd: polynomial kernel: coef0 = %v, need a finite coef0 >= 0: %w", k.Coef0, ErrParam)
	}
	return nil
}

func (k Polynomial) String() string {
	g := "1/d"
	if k.Gamma != 0 {
		g = strconv.FormatFloat(k.Gamma, 'g', -1, 64)
	}
	return fmt.Sprintf("polynomial(degree=%d, gamma=%s, coef0=%g)", k.Degree, g, k.Coef0)
}

// KIDKernel returns the kernel (x.y/d + 1)^3 of the kernel inception distance.
func KIDKernel() Polynomial { return Polynomial{Degree: 3, Coef0: 1} }

// parseSpec splits a NAME[:N1,N2,...] description into the name and its numbers.
func parseSpec(what, s string) (string, []float64, error) {
	name, args, _ := strings.Cut(strings.TrimSpace(s), ":")
	var nums []float64
	if args != "" {
		for _, f := range strings.Split(args, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return "", nil, fmt.Errorf("mmd: %s %q: %w: %w", what, s, ErrParam, err)
			}
			nums = append(nums, v)
		}
	}
	return name, nums, nil
}

func powInt(b float64, n int) float64 {
	r := 1.0
	for ; n > 0; n-- {
		r *= b
	}
	return r
}

// ParseKernel parses a kernel description of the form NAME[:ARGS]:
//
//	gaussian:SIGMA          exp(-||x-y||^2 / (2 SIGMA^2))
//	imq:C[,BETA]            (C^2 + ||x-y||^2)^BETA, BETA defaults to -0.5
//	rq[:A1,A2,...]          mixed rational quadratic, default MMD GAN scales
//	rq+linear[:A1,...]      the same plus x.y
//	linear                  x.y
//	poly:DEG[,GAMMA[,COEF0]] (GAMMA x.y + COEF0)^DEG; GAMMA 0 means 1/d, COEF0 defaults to 1
//	kid                     (x.y/d + 1)^3
//
// The returned kernel has been validated.
func ParseKernel(s string) (Kernel, error) {
	name, nums, err := parseSpec("kernel", s)
	if err != nil {
		return nil, err
	}
	nargs := func(lo, hi int) error {
		if len(nums) < lo || len(nums) > hi {
			return fmt.Errorf("mmd: kernel %q: %s takes %d to %d numbers: %w", s, name, lo, hi, ErrParam)
		}
		return nil
	}
	var k Kernel
	switch strings.ToLower(name) {
	case "gaussian":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		k = Gaussian{Sigma: nums[0]}
	case "imq":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		c := IMQ{C: nums[0], Beta: -0.5}
		if len(nums) == 2 {
			c.Beta = nums[1]
		}
		k = c
	case "rq", "rq+linear":
		k = MixedRQ{Alphas: nums, Linear: name == "rq+linear"}
	case "linear":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		k = Linear{}
	case "poly":
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		if nums[0] != math.Trunc(nums[0]) {
			return nil, fmt.Errorf("mmd: kernel %q: degree must be an integer: %w", s, ErrParam)
		}
		p := Polynomial{Degree: int(nums[0]), Coef0: 1}
		if len(nums) > 1 {
			p.Gamma = nums[1]
		}
		if len(nums) > 2 {
			p.Coef0 = nums[2]
		}
		k = p
	case "kid":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		k = KIDKernel()
	default:
		return nil, fmt.Errorf("mmd: unknown kernel %q (want gaussian, imq, rq, rq+linear, linear, poly or kid): %w", s, ErrParam)
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return k, nil
}
