package checkpoints

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
)

// tmpSuffix marks our temporary files: "." + final name + ".tmp-" + random digits (os.CreateTemp's).
const tmpSuffix = ".tmp-"

// WriteFileAtomic replaces path with what write produces, crash-safely: a temporary file in the same directory
// (".<name>.tmp-<digits>"), fsynced, renamed over path, and the directory fsynced. On any error the temporary file
// is removed and path is untouched. The trainer uses it for its metrics log and loss chart.
func WriteFileAtomic(path string, write func(io.Writer) error) error { return writeAtomic(path, write) }

// writeAtomic writes path via a temporary file in the same directory: write, fsync, close, rename, fsync the
// directory. On any error the temporary file is removed and path is untouched.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+tmpSuffix+"*")
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("checkpoints: writing %s: %w", tmp, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("checkpoints: syncing %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("checkpoints: closing %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	defer d.Close()
	// Some file systems cannot sync a directory; their renames are as durable as they get.
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("checkpoints: syncing directory %s: %w", dir, err)
	}
	return nil
}

// tmpName matches the temporary files of the files a Run owns.
var tmpName = regexp.MustCompile(`^\.(ckpt-[0-9]{9,}\.safetensors|latest|config\.json)\.tmp-[0-9]+$`)
