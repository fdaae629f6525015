package cache

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/internal/atomicfile"
)

// Ext is the file name extension of cache files.
const Ext = ".dmmdcache"

// Read opens the cache file at path, decodes its header and passes it to
// check, which returns an error if the cache does not fit what the caller
// wants. Then it reads the images and verifies the file's length and
// checksums. A missing file gives an error matching fs.ErrNotExist.
func Read(path string, check func(Header) error) (*data.U8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ds, err := read(bufio.NewReaderSize(f, 1<<20), st.Size(), check)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// read decodes a cache file of the given total size from r.
func read(r io.Reader, size int64, check func(Header) error) (*data.U8, error) {
	h, n, err := DecodeHeader(r)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(h); err != nil {
			return nil, err
		}
	}
	if want := int64(n) + h.PayloadSize() + 4; size != want {
		return nil, fmt.Errorf("file has %d bytes, its header implies %d (truncated or padded)", size, want)
	}
	pix := make([]uint8, h.PayloadSize())
	if _, err := io.ReadFull(r, pix); err != nil {
		return nil, fmt.Errorf("reading images: %w", noEOF(err))
	}
	var trailer [4]byte
	if _, err := io.ReadFull(r, trailer[:]); err != nil {
		return nil, fmt.Errorf("reading payload checksum: %w", noEOF(err))
	}
	if crc32.Checksum(pix, castagnoli) != binary.LittleEndian.Uint32(trailer[:]) {
		return nil, errors.New("payload checksum mismatch (corrupt images)")
	}
	return data.NewU8(h.Shape, pix, nil)
}

// Write stores h and pix (h.Count images) at path atomically (atomicfile.Write:
// a temporary file in the same folder, synced, renamed, the folder synced), so
// a crash never leaves a partial file under the final name. It creates the
// folder if needed, and refuses a folder without any write permission bit.
func Write(path string, h Header, pix []uint8) (err error) {
	if err := h.validate(); err != nil {
		return fmt.Errorf("%s: bad header: %w", path, err)
	}
	if int64(len(pix)) != h.PayloadSize() {
		return fmt.Errorf("%s: %d image bytes, header declares %d", path, len(pix), h.PayloadSize())
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Respect a folder marked read-only even when the permissions would not
	// stop us (as root).
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s: folder is read-only (mode %v)", dir, st.Mode().Perm())
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		encode(bw, h, pix)
		return bw.Flush()
	})
}

// encode writes a complete cache file to w. Errors are left to w (a
// bufio.Writer keeps the first one).
func encode(w io.Writer, h Header, pix []uint8) {
	w.Write(h.Encode())
	w.Write(pix)
	w.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(pix, castagnoli)))
}

// Paths returns the candidate cache files, in order of preference, for the
// source at the absolute path source preprocessed as described by slug (a
// short file-name-safe tag such as "celeba-c140-s64"). With an explicit
// cacheDir there is one candidate in it; otherwise the first candidate lies
// next to the source and the second in os.UserCacheDir()/dmmd, for sources in
// read-only folders. Names outside the source's folder carry a hash of the
// source path, so equal base names from different folders do not collide.
func Paths(cacheDir, source, slug string) []string {
	base := filepath.Base(source)
	if base == "." || base == string(filepath.Separator) {
		base = "data"
	}
	sum := sha256.Sum256([]byte(source))
	hashed := base + "-" + hex.EncodeToString(sum[:4]) + "." + slug + Ext
	if cacheDir != "" {
		return []string{filepath.Join(cacheDir, hashed)}
	}
	paths := []string{filepath.Join(filepath.Dir(source), base+"."+slug+Ext)}
	if uc, err := os.UserCacheDir(); err == nil {
		paths = append(paths, filepath.Join(uc, "dmmd", hashed))
	}
	return paths
}
