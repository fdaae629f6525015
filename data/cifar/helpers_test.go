package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// record returns one record with the given label whose value at plane c,
// row y, column x is (seed + 3c + 5y + 7x) % 256.
func record(label byte, seed int) []byte {
	r := []byte{label}
	for c := range 3 {
		for y := range Side {
			for x := range Side {
				r = append(r, byte((seed+3*c+5*y+7*x)%256))
			}
		}
	}
	return r
}

// batch returns n records; record i of batch k has label (k+i)%10 and seed 100k+i.
func batch(k, n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, record(byte((k+i)%NumClasses), 100*k+i)...)
	}
	return b
}

// trainFiles returns the five training batches with per records each, and the test batch.
func trainFiles(per int) map[string][]byte {
	m := map[string][]byte{"test_batch.bin": batch(9, per)}
	for k := 1; k <= 5; k++ {
		m["data_batch_"+string(rune('0'+k))+".bin"] = batch(k, per)
	}
	return m
}

func writeFolder(t testing.TB, dir string, files map[string][]byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tarball returns a tar.gz holding cifar-10-batches-bin/<name> for names in
// order, plus a readme.
func tarball(t testing.TB, files map[string][]byte, order []string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.WriteHeader(&tar.Header{Name: FolderName + "/", Mode: 0o755, Typeflag: tar.TypeDir})
	add(FolderName+"/readme.html", []byte("<html>"))
	for _, name := range order {
		add(FolderName+"/"+name, files[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

var shuffled = []string{"data_batch_3.bin", "test_batch.bin", "data_batch_1.bin", "data_batch_5.bin", "data_batch_2.bin", "data_batch_4.bin"}
