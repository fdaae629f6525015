// Package cifar loads CIFAR-10 from the official binary version: the
// cifar-10-batches-bin folder (data_batch_1.bin ... data_batch_5.bin for the
// training split, test_batch.bin for the test split; records of 1 label byte
// and 3072 bytes of R, G and B planes) or, without unpacking, the official
// cifar-10-binary.tar.gz, which it can also download (Download).
//
// Each official batch holds exactly 10,000 records; a file of another size is
// reported, never loaded in part.
package cifar

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/internal/archive"
)

// Names of the official folder and tarball.
const (
	FolderName  = "cifar-10-batches-bin"
	TarballName = "cifar-10-binary.tar.gz"
)

// Options configures Load.
type Options struct {
	// Path is a folder holding cifar-10-batches-bin/ or cifar-10-binary.tar.gz,
	// the cifar-10-batches-bin folder itself, or the tarball.
	Path string
	// Split is "train" (default; data_batch_1..5) or "test" (test_batch).
	Split string
	// Download fetches the official tarball into Path when neither the
	// folder nor the tarball is there.
	Download bool
	// URL and MD5 override OfficialURL and OfficialMD5 (mirrors, tests).
	URL, MD5 string
	// Limit keeps only the first Limit images (0: all).
	Limit int
	// Progress receives the download progress bar (nil: none).
	Progress io.Writer

	perBatch int // records per batch file; 0 for BatchRecords (tests use fewer)
}

// BatchFiles returns the batch file names of a split.
func BatchFiles(split string) ([]string, error) {
	switch split {
	case "", "train":
		return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, nil
	case "test":
		return []string{"test_batch.bin"}, nil
	}
	return nil, fmt.Errorf("cifar: unknown split %q (want train or test)", split)
}

// Load reads a split into memory, with labels.
func Load(o Options) (*data.U8, error) {
	files, err := BatchFiles(o.Split)
	if err != nil {
		return nil, err
	}
	if o.Path == "" {
		return nil, fmt.Errorf("cifar: no data path given")
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("cifar: negative limit %d", o.Limit)
	}
	if o.perBatch == 0 {
		o.perBatch = BatchRecords
	}
	dir, tarball, err := locate(o, files[0])
	if err != nil {
		return nil, err
	}
	n := len(files) * o.perBatch
	if o.Limit > 0 && o.Limit < n {
		n = o.Limit
	}
	var pix []uint8
	var labels []int
	if tarball != "" {
		pix, labels, err = readTarball(tarball, files, o.perBatch, n)
	} else {
		pix, labels, err = readFolder(dir, files, o.perBatch, n)
	}
	if err != nil {
		return nil, err
	}
	return data.NewU8(data.Shape{C: 3, H: Side, W: Side}, pix, labels)
}

// locate finds the batches folder or the tarball, downloading the tarball if
// asked to. Exactly one of dir and tarball is set.
func locate(o Options, first string) (dir, tarball string, err error) {
	p := o.Path
	hint := fmt.Sprintf("pass -download to fetch %s", TarballName)
	st, err := os.Stat(p)
	switch {
	case err == nil && !st.IsDir():
		return "", p, nil
	case err == nil:
		if isDir(filepath.Join(p, FolderName)) {
			return filepath.Join(p, FolderName), "", nil
		}
		if isFile(filepath.Join(p, first)) {
			return p, "", nil
		}
		if isFile(filepath.Join(p, TarballName)) {
			return "", filepath.Join(p, TarballName), nil
		}
		tarball = filepath.Join(p, TarballName)
		if !o.Download {
			return "", "", fmt.Errorf("cifar: %s holds neither %s/ nor %s (%s)", p, FolderName, TarballName, hint)
		}
	case os.IsNotExist(err):
		if !o.Download {
			return "", "", fmt.Errorf("cifar: %w (%s)", err, hint)
		}
		tarball = filepath.Join(p, TarballName)
		if strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz") {
			tarball = p
		}
		if err := os.MkdirAll(filepath.Dir(tarball), 0o755); err != nil {
			return "", "", fmt.Errorf("cifar: %w", err)
		}
	default:
		return "", "", fmt.Errorf("cifar: %w", err)
	}
	if err := Download(o.URL, o.MD5, tarball, o.Progress); err != nil {
		return "", "", err
	}
	return "", tarball, nil
}

func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }
func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }

// readFolder checks every batch file's size, then reads the first n records.
func readFolder(dir string, files []string, perBatch, n int) ([]uint8, []int, error) {
	paths := make([]string, len(files))
	for k, f := range files {
		paths[k] = filepath.Join(dir, f)
		st, err := os.Stat(paths[k])
		if err != nil {
			return nil, nil, fmt.Errorf("cifar: %w", err)
		}
		if err := checkCount(paths[k], st.Size(), perBatch); err != nil {
			return nil, nil, err
		}
	}
	pix, labels := make([]uint8, n*ImageSize), make([]int, n)
	for k, p := range paths {
		lo, hi := k*perBatch, min((k+1)*perBatch, len(labels))
		if lo >= hi {
			break
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("cifar: %w", err)
		}
		err = decodeRecords(p, bufio.NewReaderSize(f, 1<<20), pix[lo*ImageSize:hi*ImageSize], labels[lo:hi])
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	return pix, labels, nil
}

// checkCount checks that a batch file of size bytes holds perBatch records.
func checkCount(name string, size int64, perBatch int) error {
	n, err := checkSize(name, size)
	if err != nil {
		return err
	}
	if n != perBatch {
		return fmt.Errorf("cifar: %s: %d records, want %d (truncated or not an official batch)", name, n, perBatch)
	}
	return nil
}

// readTarball reads the first n records of the batch files from the official
// tarball without unpacking it, in whatever order the archive holds them.
func readTarball(tarball string, files []string, perBatch, n int) ([]uint8, []int, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return nil, nil, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("cifar: %s: %w", tarball, err)
	}
	index := map[string]int{}
	for k, name := range files {
		index[name] = k
	}
	seen := make([]bool, len(files))
	var pix []uint8
	var labels []int
	// visit reads one entry; its errors name the entry, the walk's the tarball.
	visit := func(name string, h *tar.Header, body io.Reader) error {
		dir, base := path.Split(name)
		k, ok := index[base]
		if !ok || path.Base(dir) != FolderName {
			return nil
		}
		entry := tarball + ":" + name
		if seen[k] {
			return fmt.Errorf("cifar: %s: %s appears twice", tarball, name)
		}
		seen[k] = true
		if err := checkCount(entry, h.Size, perBatch); err != nil {
			return err
		}
		if pix == nil { // allocate once the sizes are known to be right
			pix, labels = make([]uint8, n*ImageSize), make([]int, n)
		}
		lo, hi := k*perBatch, min((k+1)*perBatch, n)
		if lo >= hi {
			return nil
		}
		return decodeRecords(entry, body, pix[lo*ImageSize:hi*ImageSize], labels[lo:hi])
	}
	var visitErr error
	err = archive.WalkTar(zr, func(name string, h *tar.Header, body io.Reader) error {
		visitErr = visit(name, h, body)
		return visitErr
	})
	switch {
	case visitErr != nil:
		return nil, nil, visitErr
	case err != nil:
		return nil, nil, fmt.Errorf("cifar: %s: reading tarball: %w", tarball, err)
	}
	// Read the rest of the gzip stream: this verifies its checksum.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, nil, fmt.Errorf("cifar: %s: %w", tarball, err)
	}
	for k, ok := range seen {
		if !ok {
			return nil, nil, fmt.Errorf("cifar: %s: no %s/%s in the tarball", tarball, FolderName, files[k])
		}
	}
	return pix, labels, nil
}
