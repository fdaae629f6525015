package sample

import (
	"fmt"
	"io"

	"github.com/dmmd/dmmd/internal/atomicfile"
)

// writeAtomic replaces path crash-safely (atomicfile.Write), so that path is either absent or complete, also after
// a power loss. The file ends up with mode 0644.
func writeAtomic(path string, write func(w io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("sample: writing %s: %w", path, err)
	}
	return nil
}

// createExclusive creates path with content b, complete and synced, unless path already exists (created reports
// which), so two processes creating the same file at once never overwrite each other (atomicfile.Create).
func createExclusive(path string, b []byte) (created bool, err error) {
	created, err = atomicfile.Create(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sample: writing %s: %w", path, err)
	}
	return created, nil
}

// tempImage returns the index of the image a temporary file in an export folder was written for.
func tempImage(name string) (int, bool) {
	final, ok := atomicfile.TempOf(name)
	if !ok {
		return 0, false
	}
	return parseFileName(final)
}

// isManifestTemp reports whether name is a temporary file of the folder's manifest.
func isManifestTemp(name string) bool {
	final, ok := atomicfile.TempOf(name)
	return ok && final == ManifestName
}
