package sample

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// tmpPattern matches the temporary files writeAtomic creates next to NNNNNN.png: ".NNNNNN.png.tmp<random>".
var tmpPattern = regexp.MustCompile(`^\.([0-9]{6,})\.png\.tmp[0-9]*$`)

// manifestTmp matches the temporary files createExclusive leaves next to the manifest if it is killed.
var manifestTmp = regexp.MustCompile(`^\.` + regexp.QuoteMeta(ManifestName) + `\.tmp[0-9]*$`)

// writeAtomic writes path through a temporary file in the same folder, fsyncs it and renames it into place, so
// that path is either absent or complete, also after a power loss (a file renamed before its data reached the disk
// could come back empty or cut short under its final name). The file ends up with mode 0644.
func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err = write(bw); err != nil {
		return fmt.Errorf("sample: writing %s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("sample: writing %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sample: syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("sample: writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}

// createExclusive creates path with content b, complete and synced, unless path already exists (created reports
// which). It writes a temporary file and hard-links it to path, which fails when path exists, so two processes
// creating the same file at once never overwrite each other.
func createExclusive(path string, b []byte) (created bool, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return false, fmt.Errorf("sample: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return false, fmt.Errorf("sample: writing %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("sample: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: a manifest lost with its folder's entries is refused or recreated next time
		d.Close()
	}
	return true, nil
}
