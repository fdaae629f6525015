package cifar

import (
	"archive/tar"
	"errors"
	"io"
	"path"
	"strings"
)

// tarReader yields the regular files of a tar stream.
type tarReader struct{ tr *tar.Reader }

func newTarReader(r io.Reader) tarReader { return tarReader{tar.NewReader(r)} }

// next returns the cleaned name, size and contents of the next regular file,
// or io.EOF at the end of the archive.
func (t tarReader) next() (name string, size int64, body io.Reader, err error) {
	for {
		h, err := t.tr.Next()
		if err == io.EOF {
			return "", 0, nil, io.EOF
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // nothing is extracted
			if err == io.ErrUnexpectedEOF {
				err = errors.New("unexpected end of archive (truncated download?)")
			}
			return "", 0, nil, err
		}
		if h.FileInfo().Mode().IsRegular() {
			return path.Clean(strings.TrimPrefix(h.Name, "./")), h.Size, t.tr, nil
		}
	}
}
