// Package mnist loads MNIST (and other idx-format digit sets such as
// Fashion-MNIST) from the official idx files, gzipped or not:
// train-images-idx3-ubyte(.gz) with train-labels-idx1-ubyte(.gz), and
// t10k-* for the test split. Images are 1x28x28, optionally padded to 1x32x32
// with the background value 0 (-1 after scaling).
package mnist

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/data"
)

// Options configures Load.
type Options struct {
	// Path is the folder holding the idx files, or the images file itself
	// (the labels file is then found by its name).
	Path string
	// Split is "train" (default) or "test" (the t10k files).
	Split string
	// Pad32 pads the images to 32x32 with background (0, i.e. -1).
	Pad32 bool
	// Limit keeps only the first Limit images (0: all).
	Limit int
}

// Load reads the images and, when the labels file is present, the labels.
func Load(o Options) (*data.U8, error) {
	prefix := map[string]string{"": "train", "train": "train", "test": "t10k"}[o.Split]
	if prefix == "" {
		return nil, fmt.Errorf("mnist: unknown split %q (want train or test)", o.Split)
	}
	if o.Path == "" {
		return nil, fmt.Errorf("mnist: no data path given")
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("mnist: negative limit %d", o.Limit)
	}
	imgPath, lblPath, err := files(o.Path, prefix)
	if err != nil {
		return nil, err
	}
	imgs, err := ReadIDXFile(imgPath)
	if err != nil {
		return nil, err
	}
	if len(imgs.Dims) != 3 {
		return nil, fmt.Errorf("mnist: %s: idx has %d dimensions %v, want 3 (count, rows, columns)", imgPath, len(imgs.Dims), imgs.Dims)
	}
	n, h, w := imgs.Dims[0], imgs.Dims[1], imgs.Dims[2]
	var labels []int
	if lblPath != "" {
		lbls, err := ReadIDXFile(lblPath)
		if err != nil {
			return nil, err
		}
		if len(lbls.Dims) != 1 || lbls.Dims[0] != n {
			return nil, fmt.Errorf("mnist: %s: %v labels for the %d images of %s", lblPath, lbls.Dims, n, imgPath)
		}
		labels = make([]int, n)
		for i, v := range lbls.Data {
			labels[i] = int(v)
		}
	}
	ds, err := data.NewU8(data.Shape{C: 1, H: h, W: w}, imgs.Data, labels)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", imgPath, err)
	}
	ds = ds.First(o.Limit)
	if o.Pad32 {
		if ds, err = pad(ds, 32); err != nil {
			return nil, fmt.Errorf("mnist: %s: %w", imgPath, err)
		}
	}
	return ds, nil
}

// files finds the images and (optional) labels files of a split.
func files(p, prefix string) (images, labels string, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", "", fmt.Errorf("mnist: %w", err)
	}
	if !st.IsDir() {
		base := filepath.Base(p)
		if !strings.Contains(base, "images") {
			return p, "", nil
		}
		l := strings.TrimSuffix(strings.Replace(strings.Replace(base, "images", "labels", 1), "idx3", "idx1", 1), ".gz")
		for _, c := range []string{l, l + ".gz"} {
			c = filepath.Join(filepath.Dir(p), c)
			if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
				return p, c, nil
			}
		}
		return p, "", nil
	}
	find := func(kind, idx string) string {
		for _, sep := range []string{"-", "."} {
			for _, ext := range []string{"", ".gz"} {
				c := filepath.Join(p, prefix+"-"+kind+sep+idx+"-ubyte"+ext)
				if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
					return c
				}
			}
		}
		return ""
	}
	images = find("images", "idx3")
	if images == "" {
		return "", "", fmt.Errorf("mnist: %s: no %s-images-idx3-ubyte or %s-images-idx3-ubyte.gz", p, prefix, prefix)
	}
	return images, find("labels", "idx1"), nil
}

// pad centers every image of ds on a side x side background of zeros.
func pad(ds *data.U8, side int) (*data.U8, error) {
	s := ds.Shape()
	if s.H > side || s.W > side {
		return nil, fmt.Errorf("cannot pad %dx%d images to %dx%d", s.H, s.W, side, side)
	}
	out := data.Shape{C: s.C, H: side, W: side}
	pix := make([]uint8, ds.Len()*out.Size())
	top, left := (side-s.H)/2, (side-s.W)/2
	for i := range ds.Len() {
		src, dst := ds.Raw(i), pix[i*out.Size():(i+1)*out.Size()]
		for c := range s.C {
			for y := range s.H {
				copy(dst[(c*side+top+y)*side+left:], src[(c*s.H+y)*s.W:(c*s.H+y+1)*s.W])
			}
		}
	}
	return data.NewU8(out, pix, ds.Labels())
}
