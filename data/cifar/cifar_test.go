package cifar

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
)

const per = 3 // records per synthetic batch

// check verifies that ds holds, in order, records 0..n-1 of the batches ks.
func check(t *testing.T, ds *data.U8, ks []int, n int) {
	t.Helper()
	if ds.Len() != n || ds.Shape() != (data.Shape{C: 3, H: 32, W: 32}) {
		t.Fatalf("loaded %d x %v, want %d x 3x32x32", ds.Len(), ds.Shape(), n)
	}
	img := make([]float32, ImageSize)
	for j := range n {
		k, i := ks[j/per], j%per
		if ds.Labels()[j] != (k+i)%NumClasses {
			t.Fatalf("image %d: label %d, want %d", j, ds.Labels()[j], (k+i)%NumClasses)
		}
		ds.Image(j, img)
		for _, p := range [][3]int{{0, 0, 0}, {0, 31, 1}, {1, 2, 30}, {2, 17, 5}, {2, 31, 31}} {
			c, y, x := p[0], p[1], p[2]
			v := byte((100*k + i + 3*c + 5*y + 7*x) % 256)
			if got := img[(c*32+y)*32+x]; got != float32(float64(v)/127.5-1) {
				t.Fatalf("image %d c%d y%d x%d = %v, want value %d", j, c, y, x, got, v)
			}
		}
	}
}

func TestLoadLayouts(t *testing.T) {
	files := trainFiles(per)
	dir := t.TempDir()
	writeFolder(t, filepath.Join(dir, "unpacked", FolderName), files)
	tgz := tarball(t, files, shuffled)
	os.MkdirAll(filepath.Join(dir, "packed"), 0o755)
	os.WriteFile(filepath.Join(dir, "packed", TarballName), tgz, 0o644)
	os.WriteFile(filepath.Join(dir, "elsewhere.tgz"), tgz, 0o644)

	train := []int{1, 2, 3, 4, 5}
	for _, c := range []struct {
		name, path string
	}{
		{"parent of folder", filepath.Join(dir, "unpacked")},
		{"folder", filepath.Join(dir, "unpacked", FolderName)},
		{"parent of tarball", filepath.Join(dir, "packed")},
		{"tarball", filepath.Join(dir, "elsewhere.tgz")},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds, err := Load(Options{Path: c.path, perBatch: per})
			if err != nil {
				t.Fatal(err)
			}
			check(t, ds, train, 5*per)
			test, err := Load(Options{Path: c.path, Split: "test", perBatch: per})
			if err != nil {
				t.Fatal(err)
			}
			check(t, test, []int{9}, per)
			// A limit inside the second batch.
			lim, err := Load(Options{Path: c.path, Limit: per + 1, perBatch: per})
			if err != nil {
				t.Fatal(err)
			}
			check(t, lim, train, per+1)
		})
	}
}

func TestReadBatch(t *testing.T) {
	b := batch(2, 4)
	pix, labels, err := ReadBatch("x.bin", bytes.NewReader(b), int64(len(b)))
	if err != nil || !slices.Equal(labels, []int{2, 3, 4, 5}) || len(pix) != 4*ImageSize ||
		!bytes.Equal(pix[ImageSize:2*ImageSize], b[RecordSize+1:2*RecordSize]) {
		t.Fatalf("ReadBatch: labels %v, %v", labels, err)
	}
	bad := bytes.Clone(b)
	bad[2*RecordSize] = 10
	cases := []struct {
		name string
		b    []byte
		size int64
		want string
	}{
		{"empty", nil, 0, "empty file"},
		{"partial record", b[:RecordSize+5], RecordSize + 5, "not a multiple of the record size 3073"},
		{"label 10", bad, int64(len(bad)), "record 2 (byte offset 6146): label 10 is not in 0..9"},
		{"short stream", b[:RecordSize+5], 2 * RecordSize, "truncated in record 1"},
	}
	for _, c := range cases {
		if _, _, err := ReadBatch("x.bin", bytes.NewReader(c.b), c.size); err == nil ||
			!strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cifar: x.bin: ") {
			t.Errorf("%s: err = %v, want one naming x.bin and containing %q", c.name, err, c.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, edit func(m map[string][]byte)) string {
		files := trainFiles(per)
		edit(files)
		p := filepath.Join(dir, name)
		writeFolder(t, p, files)
		return p
	}
	missing := mk("missing3", func(m map[string][]byte) { delete(m, "data_batch_3.bin") })
	odd := mk("odd", func(m map[string][]byte) { m["data_batch_2.bin"] = m["data_batch_2.bin"][:2*RecordSize+100] })
	short := mk("short", func(m map[string][]byte) { m["data_batch_4.bin"] = m["data_batch_4.bin"][:2*RecordSize] })
	label := mk("label", func(m map[string][]byte) { m["data_batch_5.bin"][RecordSize] = 200 })
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)

	files := trainFiles(per)
	tgz := tarball(t, files, shuffled)
	writeFile := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	cut := writeFile("cut.tar.gz", tgz[:len(tgz)/2])
	noGzip := writeFile("plain.tar.gz", []byte("this is not gzip"))
	crc := bytes.Clone(tgz)
	crc[len(crc)-7] ^= 1
	badCRC := writeFile("crc.tar.gz", crc)
	lacking := writeFile("lacking.tar.gz", tarball(t, files, shuffled[:5])) // no data_batch_4
	delete(files, "data_batch_2.bin")
	files["data_batch_2.bin"] = batch(2, per)[:per*RecordSize-1]
	oddTar := writeFile("odd.tar.gz", tarball(t, files, shuffled))

	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, "no data path"},
		{Options{Path: dir, Split: "valid"}, "unknown split"},
		{Options{Path: filepath.Join(dir, "nowhere")}, "no such file or directory (pass -download"},
		{Options{Path: filepath.Join(dir, "empty")}, "holds neither cifar-10-batches-bin/ nor cifar-10-binary.tar.gz"},
		{Options{Path: missing}, filepath.Join(missing, "data_batch_3.bin") + ": no such file"},
		{Options{Path: odd}, filepath.Join(odd, "data_batch_2.bin") + ": file size 6246 is not a multiple of the record size 3073"},
		{Options{Path: short}, filepath.Join(short, "data_batch_4.bin") + ": 2 records, want 3"},
		{Options{Path: short, Limit: 1}, "data_batch_4.bin: 2 records, want 3"}, // checked even when not read
		{Options{Path: label}, filepath.Join(label, "data_batch_5.bin") + ": record 1 (byte offset 3073): label 200"},
		{Options{Path: cut}, cut},
		{Options{Path: noGzip}, noGzip + ": gzip: invalid header"},
		{Options{Path: badCRC}, badCRC + ": gzip: invalid checksum"},
		{Options{Path: lacking}, "no cifar-10-batches-bin/data_batch_4.bin in the tarball"},
		{Options{Path: oddTar}, oddTar + ":cifar-10-batches-bin/data_batch_2.bin: file size 9218 is not a multiple"},
	}
	for _, c := range cases {
		c.o.perBatch = per
		_, err := Load(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "cifar: ") {
			t.Errorf("Load(%+v):\n got %v\nwant an error containing %q", c.o, err, c.want)
		}
	}
}

func TestOfficialBatchSize(t *testing.T) {
	// Without the test hook, a batch must hold exactly 10,000 records.
	dir := t.TempDir()
	writeFolder(t, dir, trainFiles(per))
	_, err := Load(Options{Path: dir})
	if err == nil || !strings.Contains(err.Error(), "3 records, want 10000") {
		t.Fatalf("3-record batches without the hook: %v", err)
	}
}

func TestTruncatedTarballMessage(t *testing.T) {
	tgz := tarball(t, trainFiles(per), shuffled)
	for _, frac := range []int{2, 5} {
		p := filepath.Join(t.TempDir(), "cut.tar.gz")
		os.WriteFile(p, tgz[:len(tgz)*(frac-1)/frac], 0o644)
		_, err := Load(Options{Path: p, perBatch: per})
		if err == nil || !strings.Contains(err.Error(), "unexpected") {
			t.Errorf("tarball cut to %d/%d: %v", frac-1, frac, err)
		}
	}
}
