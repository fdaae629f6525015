package imgprep

import (
	"archive/tar"
	"archive/zip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dmmd/dmmd/data/internal/archive"
)

// MaxFileSize bounds the size of one image file.
const MaxFileSize = 256 << 20

// Source is a folder tree, .zip or .tar archive of image files. Names lists the
// images it will deliver, in order; Select narrows it.
type Source struct {
	Path  string   // absolute path of the folder or archive
	Names []string // selected image entries, slash-separated paths relative to Path

	kind    string // "dir", "zip" or "tar"
	meta    map[string]fileMeta
	archive fileMeta // size and modification time of the archive file
	zr      *zip.ReadCloser
	zfiles  map[string]*zip.File
}

type fileMeta struct {
	size, mtime int64
}

// IsImage reports whether name looks like a PNG or JPEG file to load: the
// extension is .png, .jpg or .jpeg (any case) and no path element is hidden
// (starts with '.') or is macOS's __MACOSX resource folder.
func IsImage(name string) bool {
	for _, el := range strings.Split(name, "/") {
		if strings.HasPrefix(el, ".") || el == "__MACOSX" {
			return false
		}
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// OpenSource lists the entries of the folder or archive at p for which keep
// returns true (IsImage if keep is nil), sorted by name. pkg prefixes errors.
func OpenSource(pkg, p string, keep func(name string) bool) (*Source, error) {
	if keep == nil {
		keep = IsImage
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	s := &Source{Path: abs, meta: map[string]fileMeta{}}
	switch ext := strings.ToLower(filepath.Ext(abs)); {
	case st.IsDir():
		s.kind = "dir"
		err = s.listDir(keep)
	case ext == ".zip":
		s.kind = "zip"
		err = s.listZip(keep)
	case ext == ".tar":
		s.kind = "tar"
		err = s.listTar(keep)
	default:
		return nil, fmt.Errorf("%s: %s is not a folder, .zip or .tar archive", pkg, abs)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %s: %w", pkg, abs, err)
	}
	if s.kind != "dir" {
		s.archive = fileMeta{st.Size(), st.ModTime().UnixNano()}
	}
	slices.Sort(s.Names)
	return s, nil
}

func (s *Source) add(name string, m fileMeta) error {
	if _, dup := s.meta[name]; dup {
		return fmt.Errorf("entry %s appears twice", name)
	}
	s.meta[name] = m
	s.Names = append(s.Names, name)
	return nil
}

func (s *Source) listDir(keep func(string) bool) error {
	return filepath.WalkDir(s.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.Path, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !keep(rel) {
			return nil
		}
		info, err := os.Stat(p) // follows symbolic links
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return s.add(rel, fileMeta{info.Size(), info.ModTime().UnixNano()})
	})
}

func (s *Source) listZip(keep func(string) bool) error {
	zr, err := zip.OpenReader(s.Path)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // nothing is extracted, so odd names are harmless
		return err
	}
	s.zr, s.zfiles = zr, map[string]*zip.File{}
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if !f.Mode().IsRegular() || !keep(name) {
			continue
		}
		if err := s.add(name, fileMeta{}); err != nil {
			return err
		}
		s.zfiles[name] = f
	}
	return nil
}

func (s *Source) listTar(keep func(string) bool) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var addErr error
	err = archive.WalkTar(f, func(name string, h *tar.Header, _ io.Reader) error {
		if keep(name) {
			addErr = s.add(name, fileMeta{})
		}
		return addErr
	})
	if err != nil && addErr == nil {
		return fmt.Errorf("reading tar: %w", err)
	}
	return err
}

// Select replaces Names by names, which must be a subset of them.
func (s *Source) Select(names []string) { s.Names = names }

// Display returns the path of entry name for messages: the file path for
// folders, archive:entry for archives.
func (s *Source) Display(name string) string {
	if s.kind == "dir" {
		return filepath.Join(s.Path, filepath.FromSlash(name))
	}
	return s.Path + ":" + name
}

// Fingerprint digests the selected names with, for folders, each file's size
// and modification time, and for archives, the archive's size and
// modification time. Any change to the selection or to a selected file's
// metadata changes it.
func (s *Source) Fingerprint() [32]byte {
	h := sha256.New()
	io.WriteString(h, s.kind)
	put := func(m fileMeta) {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(m.size))
		binary.LittleEndian.PutUint64(b[8:], uint64(m.mtime))
		h.Write(b[:])
	}
	put(s.archive)
	for _, n := range s.Names {
		io.WriteString(h, n)
		h.Write([]byte{0})
		put(s.meta[n])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Each calls fn once for every selected entry with its index in Names and its
// bytes. Folders and zip archives are read in Names order, tar archives in
// archive order. It stops at the first error fn returns.
func (s *Source) Each(fn func(i int, name string, b []byte) error) error {
	switch s.kind {
	case "dir":
		for i, name := range s.Names {
			b, err := readFile(s.Display(name))
			if err != nil {
				return err
			}
			if err := fn(i, name, b); err != nil {
				return err
			}
		}
		return nil
	case "zip":
		for i, name := range s.Names {
			b, err := readZip(s.zfiles[name])
			if err != nil {
				return fmt.Errorf("%s: %w", s.Display(name), err)
			}
			if err := fn(i, name, b); err != nil {
				return err
			}
		}
		return nil
	}
	index := make(map[string]int, len(s.Names))
	for i, n := range s.Names {
		index[n] = i
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	var visitErr error // errors of fn and of reading an entry name the entry
	err = archive.WalkTar(f, func(name string, h *tar.Header, body io.Reader) error {
		i, ok := index[name]
		if !ok {
			return nil
		}
		delete(index, name)
		if h.Size > MaxFileSize {
			visitErr = fmt.Errorf("%s: %d bytes, more than the %d-byte limit for one image", s.Display(name), h.Size, MaxFileSize)
			return visitErr
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(body, b); err != nil {
			visitErr = fmt.Errorf("%s: %w", s.Display(name), err)
			return visitErr
		}
		visitErr = fn(i, name, b)
		return visitErr
	})
	switch {
	case visitErr != nil:
		return visitErr
	case err != nil:
		return fmt.Errorf("%s: reading tar: %w", s.Path, err)
	}
	for name := range index {
		return fmt.Errorf("%s: entry %s vanished while reading (archive changed?)", s.Path, name)
	}
	return nil
}

func readFile(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d-byte limit for one image", p, st.Size(), MaxFileSize)
	}
	return os.ReadFile(p)
}

func readZip(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d-byte limit for one image", f.UncompressedSize64, MaxFileSize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, err
	}
	// The checksum is verified when the reader reaches the end.
	if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("more data than the archive declares")
		}
		return nil, err
	}
	return b, nil
}

// Close releases the archive, if any.
func (s *Source) Close() error {
	if s.zr != nil {
		return s.zr.Close()
	}
	return nil
}
