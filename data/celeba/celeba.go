// Package celeba loads CelebA's aligned face images (img_align_celeba:
// 202,599 JPEGs of 178x218 pixels) as a 3x64x64 uint8 dataset, preprocessed as
// in score_sde: a centered 140x140 crop (or 178x178) resized to 64x64 with an
// antialiased linear filter (bild).
//
// The images are read from the img_align_celeba folder, from the official
// img_align_celeba.zip, or from a .tar of the folder. Decoding them takes
// minutes, so the result is stored once in a preprocessing cache file (see
// data/internal/cache) next to the data, or in a cache folder, and later loads
// read that file. A cache whose source files, crop, size, split or count differ
// is rebuilt, never used.
//
// With list_eval_partition.txt (from CelebA's Eval folder) next to the images,
// the official train/valid/test split is used; without it, "train" means every
// image found.
package celeba

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/internal/imgprep"
)

// Names of the official files and the defaults.
const (
	FolderName    = "img_align_celeba"
	ZipName       = "img_align_celeba.zip"
	PartitionFile = "list_eval_partition.txt"
	DefaultCrop   = 140 // score_sde
	DefaultSize   = 64
)

// Options configures Load.
type Options struct {
	// Path is the img_align_celeba folder, img_align_celeba.zip, a .tar of the
	// folder, or a folder that holds img_align_celeba/ or img_align_celeba.zip.
	Path string
	// Split is "train" (default), "valid" or "test" (these need
	// list_eval_partition.txt), or "all".
	Split string
	// Crop is the side of the centered square crop: 140 (default, score_sde)
	// or 178 (the full width).
	Crop int
	// Size is the output side (default 64).
	Size int
	// CacheDir holds the preprocessing cache; "" puts it next to the data,
	// falling back to os.UserCacheDir()/dmmd when that folder is read-only.
	CacheDir string
	// NoCache neither reads nor writes a cache.
	NoCache bool
	// Limit keeps only the first Limit images of the split (0: all).
	Limit int
	// Progress receives the progress bar and cache messages (nil: none).
	Progress io.Writer
}

var splits = map[string]int{"train": 0, "valid": 1, "test": 2, "all": -1}

// Load returns the preprocessed images, without labels.
func Load(o Options) (*data.U8, error) {
	if o.Split == "" {
		o.Split = "train"
	}
	part, ok := splits[o.Split]
	if !ok {
		return nil, fmt.Errorf("celeba: unknown split %q (want train, valid, test or all)", o.Split)
	}
	if o.Crop == 0 {
		o.Crop = DefaultCrop
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Crop < 1 || o.Size < 1 || o.Limit < 0 {
		return nil, fmt.Errorf("celeba: invalid crop %d, size %d or limit %d", o.Crop, o.Size, o.Limit)
	}
	if o.Path == "" {
		return nil, fmt.Errorf("celeba: no data path given")
	}
	srcPath, root := resolve(o.Path)
	src, err := imgprep.OpenSource("celeba", srcPath, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()

	partFile := findPartition(root)
	names := src.Names
	switch {
	case part >= 0 && partFile != "":
		parts, err := readPartition(partFile)
		if err != nil {
			return nil, err
		}
		var keep []string
		for _, n := range names {
			if p, ok := parts[path.Base(n)]; ok && p == part {
				keep = append(keep, n)
			}
		}
		if len(keep) == 0 && len(names) > 0 {
			return nil, fmt.Errorf("celeba: %s: none of the %d images belongs to split %q according to %s", srcPath, len(names), o.Split, partFile)
		}
		names = keep
	case part > 0:
		return nil, fmt.Errorf("celeba: split %q needs %s in %s or %s", o.Split, PartitionFile, root, filepath.Join(root, "Eval"))
	}
	if o.Limit > 0 && o.Limit < len(names) {
		names = names[:o.Limit]
	}
	src.Select(names)

	slug := fmt.Sprintf("celeba-c%d-s%d-%s", o.Crop, o.Size, o.Split)
	if o.Limit > 0 {
		slug += fmt.Sprintf("-n%d", o.Limit)
	}
	return imgprep.Load(imgprep.Config{
		Pkg:  "celeba",
		Kind: "celeba/1",
		Params: fmt.Sprintf("crop=%d size=%d filter=bild-linear split=%s partition=%q limit=%d",
			o.Crop, o.Size, o.Split, partFile, o.Limit),
		Slug:     slug,
		Source:   src,
		Crop:     o.Crop,
		Size:     o.Size,
		Channels: 3,
		CacheDir: o.CacheDir,
		NoCache:  o.NoCache,
		Progress: o.Progress,
	})
}

// resolve returns the image source for p and the folder in which to look for
// the partition file.
func resolve(p string) (src, root string) {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		for _, name := range []string{FolderName, ZipName} {
			if _, err := os.Stat(filepath.Join(p, name)); err == nil {
				return filepath.Join(p, name), p
			}
		}
	}
	return p, filepath.Dir(filepath.Clean(p))
}

func findPartition(root string) string {
	for _, p := range []string{filepath.Join(root, PartitionFile), filepath.Join(root, "Eval", PartitionFile)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
	}
	return ""
}

// readPartition parses lines "000001.jpg 0" (0 train, 1 valid, 2 test).
func readPartition(p string) (map[string]int, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("celeba: %w", err)
	}
	defer f.Close()
	parts := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("celeba: %s:%d: want \"<file> <0|1|2>\", got %q", p, line, sc.Text())
		}
		v, err := strconv.Atoi(fields[1])
		if err != nil || v < 0 || v > 2 {
			return nil, fmt.Errorf("celeba: %s:%d: partition %q is not 0, 1 or 2", p, line, fields[1])
		}
		parts[fields[0]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("celeba: %s: %w", p, err)
	}
	return parts, nil
}
