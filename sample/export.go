package sample

import (
	"context"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/internal/progress"
)

// FileName returns the export file name of image i: "%06d.png" (000000.png, 000001.png, ...; seven digits from
// 1000000 on).
func FileName(i int) string { return fmt.Sprintf("%06d.png", i) }

// parseFileName returns the index of an export file name, or false if name is not exactly FileName(i).
func parseFileName(name string) (int, bool) {
	stem, ok := strings.CutSuffix(name, ".png")
	if !ok || len(stem) < 6 {
		return 0, false
	}
	for _, c := range stem {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(stem)
	if err != nil || FileName(i) != name {
		return 0, false
	}
	return i, true
}

// MaxExport is the largest number of images one export folder may hold.
const MaxExport = 100_000_000

// ExportOptions configures Export and ExportReal.
type ExportOptions struct {
	N        int       // images 0 .. N-1 (ExportReal: 0 = the whole dataset)
	Shard    Shard     // the part this process writes; the zero value writes everything
	Progress io.Writer // progress bar destination; nil = silent
	// Source holds what the caller knows about where the images come from and the flow or dataset cannot tell:
	// the checkpoint's identity, the dataset's settings. It is recorded in the folder's manifest with the
	// settings Export and ExportReal add themselves, and must match on resume.
	Source map[string]string
}

// ExportStats says what an export did.
type ExportStats struct {
	Written int // files written now
	Skipped int // files of this shard that already existed and were kept
	Groups  int // flow groups computed (Export) or images converted (ExportReal)
	Beyond  int // files NNNNNN.png with an index >= N found in the folder (left alone)
}

// bufferPool lets the PNG encoder reuse its compression buffers across files.
type bufferPool struct{ sync.Pool }

func (p *bufferPool) Get() *png.EncoderBuffer {
	if b, ok := p.Pool.Get().(*png.EncoderBuffer); ok {
		return b
	}
	return nil
}
func (p *bufferPool) Put(b *png.EncoderBuffer) { p.Pool.Put(b) }

var encoder = &png.Encoder{CompressionLevel: png.DefaultCompression, BufferPool: &bufferPool{}}

// exportDir is one scanned output folder.
type exportDir struct {
	dir    string
	shape  data.Shape
	exists []bool // exists[i]: dir holds a complete FileName(i), i < N
	beyond int
	files  int // export images in dir, any index
}

// openExportDir creates dir if needed and checks the folder contract: it may hold only files named FileName(i),
// the manifest (ManifestName) and this package's temporary files. Anything else is refused, so nothing the user had is ever touched. Stale
// temporary files of images that own(i) claims are removed; existing images of this shard are checked to be PNGs
// of the right size and colour type.
func openExportDir(dir string, n int, shape data.Shape, own func(i int) bool) (*exportDir, error) {
	if dir == "" {
		return nil, fmt.Errorf("sample: empty output folder name")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("sample: output %s exists and is not a folder", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	d := &exportDir{dir: dir, shape: shape, exists: make([]bool, n)}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			foreign = append(foreign, name)
			continue
		}
		if name == ManifestName || isManifestTemp(name) {
			continue
		}
		if i, ok := parseFileName(name); ok {
			d.files++
			if i < n {
				d.exists[i] = true
			} else {
				d.beyond++
			}
			continue
		}
		if i, ok := tempImage(name); ok {
			if i < n && own(i) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
					return nil, fmt.Errorf("sample: removing stale temporary file: %w", err)
				}
			}
			continue
		}
		foreign = append(foreign, name)
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		more := ""
		if len(foreign) > 5 {
			more = fmt.Sprintf(" and %d more", len(foreign)-5)
			foreign = foreign[:5]
		}
		return nil, fmt.Errorf("sample: output folder %s holds files that are not NNNNNN.png exports (%s%s): "+
			"use an empty or new folder; nothing was written", dir, strings.Join(foreign, ", "), more)
	}
	want := color.Model(color.RGBAModel)
	if shape.C == 1 {
		want = color.GrayModel
	}
	for i, ok := range d.exists {
		if !ok || !own(i) {
			continue
		}
		if err := checkPNG(filepath.Join(dir, FileName(i)), shape, want); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// checkPNG checks that path is a PNG of the export's size and colour type (reading the header only).
func checkPNG(path string, s data.Shape, want color.Model) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("sample: existing %s is not a readable PNG (%w): delete it to have it rewritten", path, err)
	}
	if cfg.Width != s.W || cfg.Height != s.H || cfg.ColorModel != want {
		return fmt.Errorf("sample: existing %s is %dx%d with another colour type or size than this export (%v): "+
			"it comes from a different run; use a new folder", path, cfg.Width, cfg.Height, s)
	}
	return nil
}

// write writes image i atomically.
func (d *exportDir) write(i int, x []float32) error {
	img, err := ToImage(x, d.shape)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(d.dir, FileName(i)), func(w io.Writer) error { return encoder.Encode(w, img) })
}

// writeAll writes images idx[k] = x[k*dim:(k+1)*dim] with up to GOMAXPROCS goroutines (each file is independent
// and atomic, so the order does not matter), calling done once per file written. It returns the first error.
func (d *exportDir) writeAll(idx []int, x []float32, done func()) error {
	dim := d.shape.Size()
	workers := min(runtime.GOMAXPROCS(0), len(idx))
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  error
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				k := int(next.Add(1) - 1)
				if k >= len(idx) {
					return
				}
				if err := d.write(idx[k], x[k*dim:(k+1)*dim]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				mu.Lock()
				done()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// startExport opens the output folder of an export of images 0 .. n-1 of shape, of which this process writes those
// own claims: it checks the folder (openExportDir), claims it with the export's manifest (claimFolder), and returns
// it with a progress bar over this process's images.
func startExport(dir string, n int, shape data.Shape, own func(i int) bool, m *Manifest, w io.Writer,
	desc string) (*exportDir, *progress.Bar, error) {
	d, err := openExportDir(dir, n, shape, own)
	if err != nil {
		return nil, nil, err
	}
	if err := claimFolder(dir, m, d.files); err != nil {
		return nil, nil, err
	}
	total := 0
	for i := range n {
		if own(i) {
			total++
		}
	}
	return d, progress.New(w, int64(total), progress.Options{Desc: desc, Unit: "img"}), nil
}

// Export runs the flow for every flow group this shard owns and writes images 0 .. N-1 into dir as FileName(i),
// 8-bit gray or RGB PNG, pixel = Pixel(x). Each file is written to a temporary name, synced and renamed, so every
// final name is a complete file. Groups whose files all exist are skipped; a group with a missing file is
// recomputed (same seeds, same pixels) and only its missing files are written. The folder must hold nothing but
// such files and its Manifest (see openExportDir), which records the flow's settings, its mean embeddings and
// opt.Source: a folder made with anything else is refused with an error listing what differs, before anything is
// written. The last group is always computed whole, so image j does not depend on N.
func Export(ctx context.Context, f *Flow, dir string, opt ExportOptions) (ExportStats, error) {
	var st ExportStats
	if f == nil {
		return st, fmt.Errorf("sample: nil flow")
	}
	if err := opt.Shard.Validate(); err != nil {
		return st, err
	}
	shape := f.Shape()
	if err := checkImageShape(shape); err != nil {
		return st, err
	}
	P := f.opt.Particles
	if opt.N < 1 || opt.N > MaxExport {
		return st, fmt.Errorf("sample: export of %d images: want 1 .. %d", opt.N, MaxExport)
	}
	d, bar, err := startExport(dir, opt.N, shape, func(i int) bool { return opt.Shard.Owns(i / P) },
		flowManifest(f, opt.Source), opt.Progress, fmt.Sprintf("sample: shard %s", opt.Shard))
	if err != nil {
		return st, err
	}
	defer bar.Finish()
	st.Beyond = d.beyond
	buf := make([]float32, f.GroupLen())
	idx := make([]int, 0, P)
	dim := shape.Size()
	groups := (opt.N + P - 1) / P
	for g := range groups {
		if !opt.Shard.Owns(g) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("sample: export interrupted: %w", err)
		}
		lo, hi := g*P, min(g*P+P, opt.N)
		missing := 0
		for i := lo; i < hi; i++ {
			if !d.exists[i] {
				missing++
			}
		}
		if missing == 0 {
			st.Skipped += hi - lo
			bar.Add(int64(hi - lo))
			continue
		}
		if err := f.Group(g, buf); err != nil {
			return st, err
		}
		st.Groups++
		// Pack the missing images to the front of buf (in place: k <= i-lo) and write them.
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			if d.exists[i] {
				st.Skipped++
				bar.Add(1)
				continue
			}
			k := len(idx)
			copy(buf[k*dim:(k+1)*dim], buf[(i-lo)*dim:(i-lo+1)*dim])
			idx = append(idx, i)
		}
		err := d.writeAll(idx, buf, func() { st.Written++; bar.Add(1) })
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// ExportReal writes the first N images of ds (all if N is 0) into dir in exactly the format of Export, for
// building FID reference statistics from the same preprocessed, 8-bit-quantised data the model trained on. The
// datasets store x = v/127.5 - 1, which Pixel maps back to v exactly. Sharding is per image (i % n == shard), and
// resume skips existing files. The manifest records the dataset's content (DataHash) and opt.Source, and must
// match on resume, as for Export.
func ExportReal(ctx context.Context, ds data.Dataset, dir string, opt ExportOptions) (ExportStats, error) {
	var st ExportStats
	if ds == nil {
		return st, fmt.Errorf("sample: nil dataset")
	}
	if err := opt.Shard.Validate(); err != nil {
		return st, err
	}
	shape := ds.Shape()
	if err := checkImageShape(shape); err != nil {
		return st, err
	}
	n := ds.Len()
	if opt.N < 0 {
		return st, fmt.Errorf("sample: export of %d images", opt.N)
	}
	if opt.N > 0 && opt.N < n {
		n = opt.N
	}
	n = min(n, MaxExport)
	if n < 1 {
		return st, fmt.Errorf("sample: the dataset is empty")
	}
	own := opt.Shard.Owns
	d, bar, err := startExport(dir, n, shape, own, realManifest(ds, opt.Source), opt.Progress,
		fmt.Sprintf("sample: real images, shard %s", opt.Shard))
	if err != nil {
		return st, err
	}
	defer bar.Finish()
	st.Beyond = d.beyond
	// Read blocks of images sequentially (a Dataset need not be safe for concurrent use), write them in parallel.
	const block = 256
	dim := shape.Size()
	x := make([]float32, block*dim)
	idx := make([]int, 0, block)
	flush := func() error {
		err := d.writeAll(idx, x, func() { st.Written++; st.Groups++; bar.Add(1) })
		idx = idx[:0]
		return err
	}
	for i := range n {
		if !own(i) {
			continue
		}
		if d.exists[i] {
			st.Skipped++
			bar.Add(1)
			continue
		}
		if len(idx) == 0 {
			if err := ctx.Err(); err != nil {
				return st, fmt.Errorf("sample: export interrupted: %w", err)
			}
		}
		k := len(idx)
		ds.Image(i, x[k*dim:(k+1)*dim])
		idx = append(idx, i)
		if len(idx) == block {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	return st, nil
}
