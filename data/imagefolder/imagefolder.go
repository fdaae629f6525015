// Package imagefolder loads any folder tree (or .zip / .tar archive) of PNG and
// JPEG files as a uint8 dataset: each image is center-cropped to its largest
// square (or a given crop) and resized to Size x Size with bild's antialiased
// linear filter. Files are taken in path order; hidden files and folders are
// skipped. Grayscale images give a 1-channel dataset, color images a
// 3-channel one; a mix is an error. Like data/celeba, the decoded images are
// stored in a preprocessing cache that later loads read instead.
package imagefolder

import (
	"fmt"
	"io"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/internal/imgprep"
)

// DefaultSize is the output side when Options.Size is 0.
const DefaultSize = 32

// Options configures Load.
type Options struct {
	Path     string    // folder, .zip or .tar of PNG/JPEG files (required)
	Size     int       // output side (default 32)
	Crop     int       // side of the centered square crop before resizing; 0: the largest square
	CacheDir string    // "" puts the cache next to the data, falling back to os.UserCacheDir()/dmmd
	NoCache  bool      // neither read nor write a cache
	Limit    int       // keep only the first Limit images in path order (0: all)
	Progress io.Writer // progress bar and cache messages (nil: none)
}

// Load returns the preprocessed images, without labels.
func Load(o Options) (*data.U8, error) {
	if o.Path == "" {
		return nil, fmt.Errorf("imagefolder: no folder given")
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Size < 1 || o.Crop < 0 || o.Limit < 0 {
		return nil, fmt.Errorf("imagefolder: invalid size %d, crop %d or limit %d", o.Size, o.Crop, o.Limit)
	}
	src, err := imgprep.OpenSource("imagefolder", o.Path, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if o.Limit > 0 && o.Limit < len(src.Names) {
		src.Select(src.Names[:o.Limit])
	}
	slug := fmt.Sprintf("folder-s%d", o.Size)
	if o.Crop > 0 {
		slug += fmt.Sprintf("-c%d", o.Crop)
	}
	if o.Limit > 0 {
		slug += fmt.Sprintf("-n%d", o.Limit)
	}
	return imgprep.Load(imgprep.Config{
		Pkg:      "imagefolder",
		Kind:     "imagefolder/1",
		Params:   fmt.Sprintf("crop=%d size=%d filter=bild-linear limit=%d", o.Crop, o.Size, o.Limit),
		Slug:     slug,
		Source:   src,
		Crop:     o.Crop,
		Size:     o.Size,
		CacheDir: o.CacheDir,
		NoCache:  o.NoCache,
		Progress: o.Progress,
	})
}
