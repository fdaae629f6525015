package cifar

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/dmmd/dmmd/internal/atomicfile"
	pbar "github.com/dmmd/dmmd/internal/progress"
)

// The official binary version and its published MD5
// (https://www.cs.toronto.edu/~kriz/cifar.html; 170,052,171 bytes).
const (
	OfficialURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	OfficialMD5 = "c32a1d4ab5d03f1284b67883e8d87530"
)

// Download fetches url (OfficialURL if empty) to dst. It writes to a
// temporary file in dst's folder (atomicfile.Write), showing a progress bar on
// progress (if not nil), checks the MD5 against sum (OfficialMD5 if empty), and
// only then renames the file to dst. On any failure, the temporary file is deleted and
// dst is left as it was.
func Download(url, sum, dst string, progress io.Writer) (err error) {
	if url == "" {
		url = OfficialURL
	}
	if sum == "" {
		sum = OfficialMD5
	}
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("cifar: download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cifar: download %s: HTTP status %s", url, resp.Status)
	}
	err = atomicfile.Write(dst, func(tmp io.Writer) error {
		h := md5.New()
		if progress != nil && resp.ContentLength < 0 {
			fmt.Fprintf(progress, "cifar: downloading %s (size unknown)\n", url)
		}
		bar := pbar.New(progress, resp.ContentLength, pbar.Options{Desc: "cifar: downloading " + filepath.Base(dst), Bytes: true})
		defer bar.Finish()
		n, err := io.Copy(io.MultiWriter(tmp, h, bar), resp.Body)
		if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
			err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
		}
		if err != nil {
			return fmt.Errorf("%w (deleted the partial file)", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(sum) {
			return fmt.Errorf("MD5 %s does not match the published %s; deleted the downloaded file", got, sum)
		}
		bar.Finish()
		return nil
	})
	if err != nil {
		return fmt.Errorf("cifar: download %s: %w", url, err)
	}
	return nil
}
