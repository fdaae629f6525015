// Package imgprep turns a folder or archive of PNG/JPEG files into a uint8
// dataset: it decodes the images on all cores, center-crops and resizes them,
// and stores the result in a preprocessing cache (data/internal/cache) that
// later runs load instead of decoding again. It is shared by data/celeba and
// data/imagefolder.
package imgprep

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sync"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/internal/cache"
	"github.com/dmmd/dmmd/internal/progress"
)

// Config describes one preprocessing job.
type Config struct {
	Pkg      string    // package name that prefixes errors and messages, e.g. "celeba"
	Kind     string    // cache kind with a format version, e.g. "celeba/1"
	Params   string    // all parameters that change the output, recorded in the cache header
	Slug     string    // short file-name-safe tag of Params for the cache file name
	Source   *Source   // the images, already selected
	Crop     int       // side of the centered square crop; 0: the largest square
	Size     int       // output side
	Channels int       // 3: always RGB; 0: 1 if every image is grayscale, 3 if none is, error if mixed
	CacheDir string    // explicit cache folder; "" for next to the data with a user-cache fallback
	NoCache  bool      // neither read nor write a cache
	Progress io.Writer // progress bar and cache messages; nil for none
	Workers  int       // decoding goroutines; 0 for runtime.NumCPU()
}

// Load returns the preprocessed images of cfg.Source, from a matching cache
// when there is one, otherwise by decoding them and writing a cache.
func Load(cfg Config) (*data.U8, error) {
	var paths []string
	if !cfg.NoCache {
		paths = cache.Paths(cfg.CacheDir, cfg.Source.Path, cfg.Slug)
	}
	return load(cfg, paths)
}

// load is Load with the candidate cache files given.
func load(cfg Config, paths []string) (*data.U8, error) {
	src := cfg.Source
	if len(src.Names) == 0 {
		return nil, fmt.Errorf("%s: %s: no images found (looked for .png, .jpg and .jpeg files)", cfg.Pkg, src.Path)
	}
	want := cache.Header{
		Kind:        cfg.Kind,
		Source:      src.Path,
		Params:      cfg.Params,
		Fingerprint: src.Fingerprint(),
		Count:       len(src.Names),
		Shape:       data.Shape{C: cfg.Channels, H: cfg.Size, W: cfg.Size},
	}
	for _, p := range paths {
		ds, err := cache.Read(p, func(h cache.Header) error {
			if d := h.Diff(want); d != "" {
				return errors.New(d)
			}
			return nil
		})
		if err == nil {
			cfg.say("%s: using cache %s\n", cfg.Pkg, p)
			return ds, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			cfg.say("%s: ignoring cache: %v\n", cfg.Pkg, err)
		}
	}
	ds, err := decodeAll(cfg)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return ds, nil
	}
	want.Shape = ds.Shape()
	var errs []error
	for _, p := range paths {
		err := cache.Write(p, want, ds.Pix())
		if err == nil {
			cfg.say("%s: wrote cache %s\n", cfg.Pkg, p)
			return ds, nil
		}
		errs = append(errs, err)
	}
	cfg.say("%s: could not write a cache, the next run will decode again: %v\n", cfg.Pkg, errors.Join(errs...))
	return ds, nil
}

func (cfg *Config) say(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format, args...)
	}
}

type job struct {
	i    int
	name string
	b    []byte
}

// errStopped ends the reading goroutine after a decoding error.
var errStopped = errors.New("stopped")

// decodeAll decodes, crops and resizes every image of cfg.Source in parallel;
// image i of the result is Source.Names[i] whatever order the work ran in.
func decodeAll(cfg Config) (*data.U8, error) {
	src, n, size := cfg.Source, len(cfg.Source.Names), cfg.Size
	plane := size * size
	pix := make([]uint8, n*3*plane)
	gray := make([]bool, n)
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	bar := progress.New(cfg.Progress, int64(n), progress.Options{Desc: cfg.Pkg + ": preprocessing", Unit: "img"})

	jobs := make(chan job, 2*workers)
	stop := make(chan struct{})
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			close(stop)
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				img, err := Decode(j.b)
				if err == nil {
					gray[j.i] = Channels(img) == 1
					err = CropResize(img, cfg.Crop, size, pix[j.i*3*plane:(j.i+1)*3*plane])
				}
				if err != nil {
					fail(fmt.Errorf("%s: %s: %w", cfg.Pkg, src.Display(j.name), err))
					continue
				}
				bar.Add(1)
			}
		}()
	}
	readErr := src.Each(func(i int, name string, b []byte) error {
		select {
		case jobs <- job{i, name, b}:
			return nil
		case <-stop:
			return errStopped
		}
	})
	close(jobs)
	wg.Wait()
	bar.Finish()
	if firstErr != nil {
		return nil, firstErr
	}
	if readErr != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Pkg, readErr)
	}

	c := 3
	if cfg.Channels == 0 {
		for i := 1; i < n; i++ {
			if gray[i] != gray[0] {
				g, rgb := i, 0
				if gray[0] {
					g, rgb = 0, i
				}
				return nil, fmt.Errorf("%s: %s: mixed channel counts: %s is grayscale (1 channel) but %s has 3",
					cfg.Pkg, src.Path, src.Display(src.Names[g]), src.Display(src.Names[rgb]))
			}
		}
		if gray[0] { // keep one of the three equal planes
			for i := range n {
				copy(pix[i*plane:(i+1)*plane], pix[i*3*plane:i*3*plane+plane])
			}
			pix, c = pix[:n*plane], 1
		}
	}
	return data.NewU8(data.Shape{C: c, H: size, W: size}, pix, nil)
}
