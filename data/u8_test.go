package data

import (
	"strings"
	"testing"
)

func TestScale(t *testing.T) {
	cases := []struct {
		v    uint8
		want float32
	}{
		{0, -1},
		{255, 1},
		{51, float32(51.0/127.5 - 1)}, // -0.6
		{127, float32(127.0/127.5 - 1)},
		{128, float32(128.0/127.5 - 1)},
	}
	for _, c := range cases {
		if got := Scale(c.v); got != c.want {
			t.Errorf("Scale(%d) = %v, want %v", c.v, got, c.want)
		}
	}
	for v := 1; v < 256; v++ {
		if Scale(uint8(v)) <= Scale(uint8(v-1)) {
			t.Fatalf("Scale not increasing at %d", v)
		}
	}
}

func TestNewU8Errors(t *testing.T) {
	cases := []struct {
		name   string
		shape  Shape
		pix    int
		labels []int
		want   string
	}{
		{"zero channels", Shape{0, 2, 2}, 0, nil, "invalid image shape"},
		{"negative height", Shape{1, -2, 2}, 0, nil, "invalid image shape"},
		{"partial image", Shape{1, 2, 2}, 7, nil, "not a multiple"},
		{"label count", Shape{1, 2, 2}, 8, []int{1}, "1 labels for 2 images"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewU8(c.shape, make([]uint8, c.pix), c.labels)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// seq returns n images of shape whose byte k (over the whole slice) is k mod 251.
func seq(t testing.TB, shape Shape, n int, labels bool) *U8 {
	pix := make([]uint8, n*shape.Size())
	for k := range pix {
		pix[k] = uint8(k % 251)
	}
	var l []int
	if labels {
		l = make([]int, n)
		for i := range l {
			l[i] = i * 10
		}
	}
	d, err := NewU8(shape, pix, l)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestU8(t *testing.T) {
	shape := Shape{3, 2, 4}
	d := seq(t, shape, 5, true)
	if d.Len() != 5 || d.Shape() != shape || shape.Size() != 24 {
		t.Fatalf("Len %d Shape %v Size %d", d.Len(), d.Shape(), shape.Size())
	}
	dst := make([]float32, 24)
	d.Image(3, dst)
	for k, v := range dst {
		raw := uint8((3*24 + k) % 251)
		if v != float32(float64(raw)/127.5-1) || d.Raw(3)[k] != raw {
			t.Fatalf("image 3 value %d = %v (raw %d), want %v", k, v, d.Raw(3)[k], raw)
		}
	}
	if a := testing.AllocsPerRun(10, func() { d.Image(4, dst) }); a != 0 {
		t.Errorf("Image allocates %v times", a)
	}

	f := d.First(2)
	if f.Len() != 2 || len(f.Labels()) != 2 || &f.Pix()[0] != &d.Pix()[0] {
		t.Errorf("First(2): Len %d, labels %v, shares memory %v", f.Len(), f.Labels(), &f.Pix()[0] == &d.Pix()[0])
	}
	if d.First(0) != d || d.First(9) != d {
		t.Error("First(0) and First(n > Len) should return the dataset itself")
	}
	s := d.Subset([]int{4, 1})
	if s.Len() != 2 || s.Labels()[0] != 40 || s.Labels()[1] != 10 ||
		string(s.Raw(0)) != string(d.Raw(4)) || string(s.Raw(1)) != string(d.Raw(1)) {
		t.Errorf("Subset([4 1]) = labels %v", s.Labels())
	}
	if u := seq(t, shape, 2, false); u.Labels() != nil || u.Subset([]int{1}).Labels() != nil {
		t.Error("unlabelled dataset reports labels")
	}
}
