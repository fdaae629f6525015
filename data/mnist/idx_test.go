package mnist

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReadIDX(t *testing.T) {
	pix, _ := digits(3, 2, 4)
	x, err := ReadIDX("t", bytes.NewReader(idx([]int{3, 2, 4}, pix)))
	if err != nil || !slices.Equal(x.Dims, []int{3, 2, 4}) || !bytes.Equal(x.Data, pix) {
		t.Fatalf("ReadIDX = %+v, %v", x, err)
	}
	good := idx([]int{3, 2, 4}, pix)
	typ := func(tp byte) []byte { b := bytes.Clone(good); b[2] = tp; return b }
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated idx header (0 bytes)"},
		{"short magic", []byte{0, 0}, "truncated idx header (2 bytes)"},
		{"wrong magic", append([]byte{1, 2, 8, 3}, good[4:]...), "wrong idx magic 0x01020803"},
		{"unknown type", typ(0x07), "wrong idx magic 0x00000703"},
		{"gzip given raw", gz(good), "this is gzip data"},
		{"float type", typ(0x0D), "0x0d (float) not supported"},
		{"no dims", []byte{0, 0, 8, 0}, "0 dimensions"},
		{"too many dims", []byte{0, 0, 8, 9}, "9 dimensions"},
		{"short dims", good[:9], "5 of 12 dimension bytes"},
		{"zero dim", idx([]int{3, 0, 4}, nil), "dimension 1 is 0"},
		{"huge", idx([]int{1 << 30, 1 << 30, 28}, nil), "exceed"},
		{"product overflows int64", idx([]int{0xffffffff, 0xffffffff, 0xffffffff}, nil), "exceed"},
		{"truncated data", good[:len(good)-1], "truncated: 23 of 24 bytes"},
		{"trailing", append(bytes.Clone(good), 0), "trailing bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadIDX("some/file", bytes.NewReader(c.b))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "mnist: some/file: ") {
				t.Fatalf("err = %v, want one naming the file and containing %q", err, c.want)
			}
		})
	}
}

func TestReadIDXFile(t *testing.T) {
	dir := t.TempDir()
	pix, _ := digits(5, 3, 3)
	raw := idx([]int{5, 3, 3}, pix)
	z := gz(raw)
	badSum := bytes.Clone(z)
	badSum[len(badSum)-6] ^= 1 // CRC-32 in the gzip trailer
	for _, c := range []struct {
		name string
		b    []byte
		want string // "" for success
	}{
		{"plain", raw, ""},
		{"gzipped.gz", z, ""},
		{"gzipped-without-suffix", z, ""},
		{"cut.gz", z[:len(z)/2], "truncated gzip stream"},
		{"cut-trailer.gz", z[:len(z)-3], "truncated gzip stream"},
		{"checksum.gz", badSum, "checksum"},
		{"header.gz", z[:5], "truncated gzip stream"},
	} {
		p := write(t, dir, c.name, c.b)
		x, err := ReadIDXFile(p)
		if c.want == "" {
			if err != nil || !bytes.Equal(x.Data, pix) {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want one naming %s and containing %q", c.name, err, p, c.want)
		}
		if c.want == "truncated gzip stream" && !errors.Is(err, errTruncatedGzip) {
			t.Errorf("%s: %v does not wrap errTruncatedGzip", c.name, err)
		}
	}
	if _, err := ReadIDXFile(dir + "/missing"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzReadIDX(f *testing.F) {
	pix, labels := digits(2, 28, 28)
	f.Add(idx([]int{2, 28, 28}, pix))
	f.Add(idx([]int{2}, labels))
	f.Add(idx([]int{1, 1, 1, 1}, []byte{9}))
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadIDX("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		total := 1
		for _, d := range x.Dims {
			total *= d
		}
		if len(x.Data) != total || 4+4*len(x.Dims)+total != len(b) {
			t.Fatalf("dims %v with %d data bytes from a %d-byte input", x.Dims, len(x.Data), len(b))
		}
	})
}
