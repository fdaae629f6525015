package cifar

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// server serves body at /cifar-10-binary.tar.gz; with truncate it promises
// more bytes than it sends, with chunked it sends no length.
func server(t *testing.T, body []byte, truncate, chunked bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+TarballName {
			http.NotFound(w, r)
			return
		}
		switch {
		case truncate:
			w.Header().Set("Content-Length", strconv.Itoa(len(body)+1000))
		case !chunked:
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func TestDownloadAndLoad(t *testing.T) {
	tgz := tarball(t, trainFiles(per), shuffled)
	for _, chunked := range []bool{false, true} {
		srv := server(t, tgz, false, chunked)
		dir := filepath.Join(t.TempDir(), "new", "cifar10") // does not exist yet
		var progress bytes.Buffer
		o := Options{Path: dir, Download: true, URL: srv.URL + "/" + TarballName, MD5: strings.ToUpper(md5hex(tgz)), Progress: &progress, perBatch: per}
		ds, err := Load(o)
		if err != nil {
			t.Fatal(err)
		}
		check(t, ds, []int{1, 2, 3, 4, 5}, 5*per)
		got, err := os.ReadFile(filepath.Join(dir, TarballName))
		if err != nil || !bytes.Equal(got, tgz) {
			t.Fatalf("tarball not stored at %s: %v", filepath.Join(dir, TarballName), err)
		}
		if !strings.Contains(progress.String(), "downloading") {
			t.Errorf("chunked %v: no progress output: %q", chunked, progress.String())
		}
		// The second load uses the stored tarball: a dead URL does not matter.
		o.URL = srv.URL + "/gone"
		if _, err := Load(o); err != nil {
			t.Fatalf("second load: %v", err)
		}
	}
}

func TestDownloadFailures(t *testing.T) {
	tgz := tarball(t, trainFiles(per), shuffled)
	good := server(t, tgz, false, false)
	cut := server(t, tgz, true, false)
	cases := []struct {
		name, url, sum, want string
	}{
		{"md5 mismatch", good.URL + "/" + TarballName, strings.Repeat("0", 32), "does not match the published " + strings.Repeat("0", 32) + "; deleted the downloaded file"},
		{"not found", good.URL + "/missing.tar.gz", md5hex(tgz), "HTTP status 404"},
		{"connection cut", cut.URL + "/" + TarballName, md5hex(tgz), "deleted the partial file"},
		{"bad url", "http://127.0.0.1:1/x", md5hex(tgz), "cifar: download"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Load(Options{Path: dir, Download: true, URL: c.url, MD5: c.sum, perBatch: per})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("failed download left %v in %s", entries, dir)
			}
		})
	}
	// Without -download nothing is fetched.
	if _, err := Load(Options{Path: t.TempDir(), URL: good.URL + "/" + TarballName, perBatch: per}); err == nil ||
		!strings.Contains(err.Error(), "pass -download") {
		t.Errorf("no download flag: %v", err)
	}
}
