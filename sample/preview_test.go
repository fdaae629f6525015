package sample_test

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/dmmd/dmmd/sample"
)

func TestWritePreview(t *testing.T) {
	c := newRFF(3, 4, 4, 32, 0.5, 2, 3)
	d := newCloud(50, 48, 5)
	path := filepath.Join(t.TempDir(), "samples", "000200.png")
	calls := c.calls
	if err := sample.WritePreview(c, d, path, sample.PreviewOptions{M: 50, Scale: 2}); err != nil {
		t.Fatal(err)
	}
	// Embeddings: 1 batch x 50 levels (m_P only); flow: 50 levels x 2 steps x (features + gradient), one chunk.
	if got := c.calls - calls; got != 50+50*2*2 {
		t.Errorf("%d critic calls, want %d", got, 50+200)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	if want := image.Rect(0, 0, 2*(8*4+9*2), 2*(8*4+9*2)); img.Bounds() != want {
		t.Errorf("preview bounds %v, want %v", img.Bounds(), want)
	}
	// Precomputed embeddings on another level grid are refused; cheap approx settings work.
	o := sample.PreviewDefaults(48)
	o.Levels = 7
	lv, _ := o.LevelGrid()
	e, err := sample.ComputeEmbeddings(c, d, lv, sample.EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sample.WritePreview(c, d, path, sample.PreviewOptions{Embeddings: e}); err == nil {
		t.Error("embeddings for 7 levels accepted by a 20-level preview")
	}
	o.Mode = sample.Approx
	if err := sample.WritePreview(c, d, path, sample.PreviewOptions{Flow: o, Embeddings: e, N: 10}); err != nil {
		t.Errorf("approx preview: %v", err)
	}
	if err := sample.WritePreview(nil, d, path, sample.PreviewOptions{}); err == nil {
		t.Error("nil critic accepted")
	}
	if err := sample.WritePreview(c, d, path, sample.PreviewOptions{N: -1}); err == nil {
		t.Error("N = -1 accepted")
	}
}

// TestPreviewRefRatio: a preview for a critic trained with a reference ratio takes m_P at that ratio (it used to
// be the clean data's, which NewFlow now refuses), with the DefaultUpdate.
func TestPreviewRefRatio(t *testing.T) {
	c := newRFF(1, 4, 4, 32, 0.5, 2, 3)
	d := newCloud(50, 16, 5)
	o := sample.PreviewDefaults(16)
	o.Levels, o.Particles = 5, 8
	if o.Update != sample.DefaultUpdate {
		t.Errorf("preview update %v, want %v", o.Update, sample.DefaultUpdate)
	}
	clean, err := sample.Preview(c, d, sample.PreviewOptions{Flow: o, N: 8})
	if err != nil {
		t.Fatal(err)
	}
	o.RefRatio = 0.5
	ref, err := sample.Preview(c, d, sample.PreviewOptions{Flow: o, N: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sameFloats(clean, ref) {
		t.Error("the reference ratio changed nothing")
	}
	lv, _ := o.LevelGrid()
	e, _ := sample.ComputeEmbeddings(c, d, lv, sample.EmbedOptions{SkipNoised: true})
	if _, err := sample.Preview(c, d, sample.PreviewOptions{Flow: o, Embeddings: e}); err == nil {
		t.Error("rho 0 embeddings accepted for a rho 0.5 preview")
	}
}

// TestPreviewDefaultsFor: a -ref-ratio critic's preview takes the ddim update with DDIMEtaFor's eta (1 for the
// zero-centred penalty, 1.3 for WGAN-GP's), a clean-reference critic's the Euler update with its own defaults.
func TestPreviewDefaultsFor(t *testing.T) {
	for _, tc := range []struct {
		rho  float64
		zero bool
		u    sample.Update
		eta  float64
	}{
		{0.8, true, sample.DDIM, sample.DefaultDDIMEtaZero},
		{0.8, false, sample.DDIM, sample.DefaultDDIMEta},
		{0, true, sample.Euler, sample.DefaultOptionsFor(sample.Exact, sample.Euler, 16).Eta},
	} {
		o := sample.PreviewDefaultsFor(16, tc.rho, tc.zero)
		if o.Update != tc.u || o.Eta != tc.eta || o.RefRatio != tc.rho || o.Particles != 64 {
			t.Errorf("rho %v, zero-centred %v: update %v, eta %v, rho %v, particles %d; want %v, %v, %v, 64",
				tc.rho, tc.zero, o.Update, o.Eta, o.RefRatio, o.Particles, tc.u, tc.eta, tc.rho)
		}
	}
	if sample.DefaultDDIMEtaZero == sample.DefaultDDIMEta {
		t.Error("the two DDIM defaults are equal: the test cannot tell them apart")
	}
}
