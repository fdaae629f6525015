package sample

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// tmpPattern matches the temporary files writeAtomic creates next to NNNNNN.png: ".NNNNNN.png.tmp<random>".
var tmpPattern = regexp.MustCompile(`^\.([0-9]{6,})\.png\.tmp[0-9]*$`)

// writeAtomic writes path through a temporary file in the same folder and renames it into place, so that path is
// either absent or complete. The file ends up with mode 0644.
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
	if err = f.Close(); err != nil {
		return fmt.Errorf("sample: writing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	return nil
}
