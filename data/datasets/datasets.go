// Package datasets opens a dataset by name: it is the one place that knows
// every loader (data/cifar, data/celeba, data/mnist, data/imagefolder), used
// by cmd/train and cmd/sample. Every dataset it returns is a *data.U8.
package datasets

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/celeba"
	"github.com/dmmd/dmmd/data/cifar"
	"github.com/dmmd/dmmd/data/imagefolder"
	"github.com/dmmd/dmmd/data/mnist"
)

// Dataset names.
const (
	CIFAR10  = "cifar10"
	CelebA64 = "celeba64"
	MNIST    = "mnist"
	Folder   = "folder"
)

// Names lists the dataset names Open accepts.
var Names = []string{CIFAR10, CelebA64, MNIST, Folder}

var aliases = map[string]string{"cifar-10": CIFAR10, "celeba": CelebA64, "imagefolder": Folder}

// Options selects and configures a dataset. Options that do not apply to the
// named dataset are ignored, except Download.
type Options struct {
	Name     string    // "cifar10", "celeba64", "mnist" or "folder"
	Path     string    // dataset location; "" for DefaultPath(Name)
	Download bool      // cifar10 only: fetch the official tarball when absent
	Split    string    // "train" (default) or "test" (cifar10, mnist; celeba64 also "valid" and "all", with the partition file)
	CacheDir string    // preprocessing caches (celeba64, folder); "" next to the data, falling back to os.UserCacheDir()/dmmd
	Size     int       // folder: output side (default 32); celeba64 is always 64
	Crop     int       // celeba64: 140 (default, score_sde) or 178
	Pad32    bool      // mnist: pad 28x28 to 32x32 with background (-1)
	Limit    int       // use only the first Limit images (0: all)
	Progress io.Writer // progress bars and cache messages (nil: none)

	DownloadURL, DownloadMD5 string // cifar10: mirror URL and its MD5 ("" for the official ones)
}

// DefaultPath is where a dataset is looked for when Options.Path is empty,
// relative to the working directory ("" for folder, which needs a path).
func DefaultPath(name string) string {
	switch canonical(name) {
	case CIFAR10:
		return filepath.Join("data", "downloads", "cifar10")
	case CelebA64:
		return filepath.Join("data", "downloads", "celeba")
	case MNIST:
		return filepath.Join("data", "downloads", "mnist")
	}
	return ""
}

// DefaultFlip reports whether random horizontal flips are on by default: true
// for cifar10 and celeba64 (as in score_sde), false otherwise.
func DefaultFlip(name string) bool {
	switch canonical(name) {
	case CIFAR10, CelebA64:
		return true
	}
	return false
}

func canonical(name string) string {
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		return a
	}
	return name
}

// Open loads the dataset described by o into memory.
func Open(o Options) (data.Dataset, error) {
	name := canonical(o.Name)
	if o.Download && name != CIFAR10 {
		return nil, fmt.Errorf("datasets: -download is only available for %s, not %q", CIFAR10, o.Name)
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("datasets: negative limit %d", o.Limit)
	}
	if o.Path == "" {
		o.Path = DefaultPath(name)
	}
	var (
		ds  *data.U8
		err error
	)
	switch name {
	case CIFAR10:
		ds, err = cifar.Load(cifar.Options{Path: o.Path, Split: o.Split, Download: o.Download,
			URL: o.DownloadURL, MD5: o.DownloadMD5, Limit: o.Limit, Progress: o.Progress})
	case CelebA64:
		if o.Crop != 0 && o.Crop != 140 && o.Crop != 178 {
			return nil, fmt.Errorf("datasets: celeba64 crop %d, want 140 or 178", o.Crop)
		}
		ds, err = celeba.Load(celeba.Options{Path: o.Path, Split: o.Split, Crop: o.Crop, Size: 64,
			CacheDir: o.CacheDir, Limit: o.Limit, Progress: o.Progress})
	case MNIST:
		ds, err = mnist.Load(mnist.Options{Path: o.Path, Split: o.Split, Pad32: o.Pad32, Limit: o.Limit})
	case Folder:
		if o.Split != "" && o.Split != "train" {
			return nil, fmt.Errorf("datasets: folder has no %q split", o.Split)
		}
		if o.Path == "" {
			return nil, fmt.Errorf("datasets: folder needs a path (-data PATH)")
		}
		ds, err = imagefolder.Load(imagefolder.Options{Path: o.Path, Size: o.Size,
			CacheDir: o.CacheDir, Limit: o.Limit, Progress: o.Progress})
	default:
		return nil, fmt.Errorf("datasets: unknown dataset %q (want one of %s)", o.Name, strings.Join(Names, ", "))
	}
	if err != nil {
		return nil, err
	}
	return ds, nil
}
