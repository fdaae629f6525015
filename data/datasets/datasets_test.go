package datasets

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/data"
	"github.com/dmmd/dmmd/data/cifar"
)

func TestDefaultFlip(t *testing.T) {
	for name, want := range map[string]bool{"cifar10": true, "celeba64": true, "celeba": true, "mnist": false, "folder": false, "other": false} {
		if DefaultFlip(name) != want {
			t.Errorf("DefaultFlip(%q) = %v", name, !want)
		}
	}
}

func mkdir(t *testing.T, p string) string {
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// cifarZeros makes official-size batch files as sparse files of zeros
// (label 0, black images), which cost no disk space.
func cifarZeros(t *testing.T, root string) {
	dir := mkdir(t, filepath.Join(root, cifar.FolderName))
	for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(cifar.BatchRecords * cifar.RecordSize)
		f.Close()
	}
}

func mnistFiles(t *testing.T, dir string) {
	img := []byte{0, 0, 8, 3}
	for _, d := range []uint32{2, 28, 28} {
		img = binary.BigEndian.AppendUint32(img, d)
	}
	img = append(img, bytes.Repeat([]byte{255}, 2*28*28)...)
	lbl := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, 2)
	os.WriteFile(filepath.Join(mkdir(t, dir), "train-images-idx3-ubyte"), img, 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), append(lbl, 3, 8), 0o644)
}

func celebaFiles(t *testing.T, dir string) {
	img := image.NewRGBA(image.Rect(0, 0, 178, 218))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	d := mkdir(t, filepath.Join(dir, "img_align_celeba"))
	for _, n := range []string{"000001.jpg", "000002.jpg", "000003.jpg"} {
		os.WriteFile(filepath.Join(d, n), b.Bytes(), 0o644)
	}
}

func folderFiles(t *testing.T, dir string) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 10))
	for x := range 20 {
		for y := range 10 {
			img.Set(x, y, color.RGBA{0, 0, 0, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	os.WriteFile(filepath.Join(mkdir(t, dir), "a.png"), b.Bytes(), 0o644)
}

func TestOpen(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(root, "usercache")) // keep the real user cache clean
	cifarZeros(t, filepath.Join(root, "cifar"))
	mnistFiles(t, filepath.Join(root, "mnist"))
	celebaFiles(t, filepath.Join(root, "celeba"))
	folderFiles(t, filepath.Join(root, "pics"))
	cache := filepath.Join(root, "cache")

	cases := []struct {
		o       Options
		n       int
		shape   data.Shape
		value   float32 // of the first pixel
		labeled bool
	}{
		{Options{Name: "cifar10", Path: filepath.Join(root, "cifar"), Limit: 7}, 7, data.Shape{C: 3, H: 32, W: 32}, -1, true},
		{Options{Name: "mnist", Path: filepath.Join(root, "mnist")}, 2, data.Shape{C: 1, H: 28, W: 28}, 1, true},
		{Options{Name: "mnist", Path: filepath.Join(root, "mnist"), Pad32: true}, 2, data.Shape{C: 1, H: 32, W: 32}, -1, true},
		{Options{Name: "celeba64", Path: filepath.Join(root, "celeba"), CacheDir: cache, Size: 32}, 3, data.Shape{C: 3, H: 64, W: 64}, 1, false},
		{Options{Name: "celeba", Path: filepath.Join(root, "celeba"), CacheDir: cache, Crop: 178, Limit: 2}, 2, data.Shape{C: 3, H: 64, W: 64}, 1, false},
		{Options{Name: "folder", Path: filepath.Join(root, "pics"), CacheDir: cache}, 1, data.Shape{C: 3, H: 32, W: 32}, -1, false},
		{Options{Name: "folder", Path: filepath.Join(root, "pics"), CacheDir: cache, Size: 8}, 1, data.Shape{C: 3, H: 8, W: 8}, -1, false},
	}
	for _, c := range cases {
		ds, err := Open(c.o)
		if err != nil {
			t.Errorf("Open(%+v): %v", c.o, err)
			continue
		}
		img := make([]float32, ds.Shape().Size())
		ds.Image(0, img)
		u8, ok := ds.(*data.U8)
		if ds.Len() != c.n || ds.Shape() != c.shape || img[0] != c.value || !ok || (u8.Labels() != nil) != c.labeled {
			t.Errorf("Open(%+v) = %d x %v, first value %v, labels %v; want %d x %v, %v, labels %v",
				c.o, ds.Len(), ds.Shape(), img[0], ok && u8.Labels() != nil, c.n, c.shape, c.value, c.labeled)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "usercache")); err == nil {
		t.Error("wrote to the user cache folder although CacheDir was given")
	}
}

func TestOpenDefaultPath(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	mnistFiles(t, filepath.Join(root, "data", "downloads", "mnist"))
	ds, err := Open(Options{Name: "mnist"})
	if err != nil || ds.Len() != 2 {
		t.Fatalf("mnist from the default path: %v", err)
	}
	_, err = Open(Options{Name: "cifar10"})
	if err == nil || !strings.Contains(err.Error(), filepath.Join("data", "downloads", "cifar10")) || !strings.Contains(err.Error(), "-download") {
		t.Errorf("cifar10 without data: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Name: "imagenet"}, `unknown dataset "imagenet"`},
		{Options{Name: "mnist", Download: true}, "only available for cifar10"},
		{Options{Name: "folder"}, "needs a path"},
		{Options{Name: "folder", Path: dir, Split: "test"}, `no "test" split`},
		{Options{Name: "celeba64", Path: dir, Crop: 150}, "crop 150"},
		{Options{Name: "mnist", Path: dir, Limit: -1}, "negative limit"},
		{Options{Name: "mnist", Path: filepath.Join(dir, "missing")}, "mnist: "},
		{Options{Name: "folder", Path: dir}, "imagefolder: "},
	}
	for _, c := range cases {
		ds, err := Open(c.o)
		if err == nil || ds != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%+v) = %v, %v; want an error containing %q", c.o, ds, err, c.want)
		}
	}
}
