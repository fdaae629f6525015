package celeba

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dmmd/dmmd/internal/sharedtest"
)

// BenchmarkPreprocess measures decode + 140 crop + resize to 64 on all cores,
// without a cache, in images per second: on the shared CelebA tar (the first
// 1,200 images) when present, else on 200 synthetic 178x218 JPEGs.
func BenchmarkPreprocess(b *testing.B) {
	root, _ := sharedtest.Root()
	p, n := filepath.Join(root, filepath.FromSlash(sharedTar)), 1200
	if root == "" {
		p, n = b.TempDir(), 200
		r := rand.New(rand.NewPCG(1, 1))
		var fs []file
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, 178, 218))
			for k := range img.Pix {
				img.Pix[k] = uint8(k/4%178 + r.IntN(40))
			}
			var buf bytes.Buffer
			jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
			fs = append(fs, file{FolderName + "/" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ".jpg", buf.Bytes()})
		}
		writeDir(b, p, fs)
		b.Logf("shared CelebA absent: %d synthetic JPEGs", n)
	}
	for b.Loop() {
		ds, err := Load(Options{Path: p, Limit: n, NoCache: true})
		if err != nil || ds.Len() != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "img/s")
}
