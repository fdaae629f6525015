// Package atomicfile writes files crash-safely: a reader, and the file system after a crash or a power loss, sees
// either the old file or the complete new one, never a torn one. It is the one place dmmd writes a file by
// replacing it (checkpoints, config.json, charts, images, manifests, caches, downloads).
//
// The rule, for every file: the content goes to a temporary file in the same directory
// (".<name>.tmp-<digits>", mode 0644), which is fsynced and closed; it is then renamed over (or, with Create,
// hard-linked to) the final name, and the directory is fsynced so that the new name survives a power loss. On
// any error the temporary file is removed and the final name is untouched. A directory that cannot be fsynced
// (EINVAL or unsupported: some network and FUSE file systems) counts as synced; any other error is returned.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tmpSuffix follows the final name in a temporary file's name; os.CreateTemp appends random digits.
const tmpSuffix = ".tmp-"

// Write replaces path with what write produces (see the package rule). An error from write is returned as it is,
// so callers can test for it with errors.Is.
func Write(path string, write func(io.Writer) error) error {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: %w", err)
	}
	return SyncDir(filepath.Dir(path))
}

// Create creates path with what write produces, unless path already exists; created reports which. The complete
// file is hard-linked to path, which fails when path exists, so two processes creating the same file at once never
// overwrite each other.
func Create(path string, write func(io.Writer) error) (created bool, err error) {
	tmp, err := writeTemp(path, write)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("atomicfile: %w", err)
	}
	return true, SyncDir(filepath.Dir(path))
}

// TempOf reports whether name (a base name) is a temporary file of this package (or of the copies it replaced,
// which left ".<name>.tmp<digits>") and, if so, the final name it was written for.
func TempOf(name string) (final string, ok bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, ".tmp")
	if i <= 0 {
		return "", false
	}
	digits := strings.TrimPrefix(rest[i+len(".tmp"):], "-")
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return rest[:i], true
}

// SyncDir fsyncs a directory so that the renames and links in it are durable. A file system that cannot sync a
// directory (EINVAL, unsupported) makes its renames as durable as they get: that is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("atomicfile: syncing directory %s: %w", dir, err)
	}
	return nil
}

// writeTemp writes a complete, fsynced and closed temporary file next to path and returns its name. On error
// nothing is left behind.
func writeTemp(path string, write func(io.Writer) error) (_ string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tmpSuffix+"*")
	if err != nil {
		return "", fmt.Errorf("atomicfile: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err = write(bw); err != nil {
		return "", err
	}
	if err = bw.Flush(); err != nil {
		return "", fmt.Errorf("atomicfile: writing %s: %w", f.Name(), err)
	}
	if err = f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("atomicfile: %w", err)
	}
	if err = f.Sync(); err != nil {
		return "", fmt.Errorf("atomicfile: syncing %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return "", fmt.Errorf("atomicfile: closing %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}
