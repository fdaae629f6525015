package checkpoints

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCheckShapes(t *testing.T) {
	f, err := Parse("ckpt.safetensors", encodeBytes(t, sampleWriter(t)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// sampleWriter holds params/w [2 3], ema/w [2 3], adam/v [2], sampler/pos [], rng/pcg [9].
	exact := map[string][]int{"params/w": {2, 3}, "ema/w": {2, 3}, "adam/v": {2}, "sampler/pos": {}, "rng/pcg": nil}
	with := func(edit func(m map[string][]int)) map[string][]int {
		m := map[string][]int{}
		for k, v := range exact {
			m[k] = v
		}
		edit(m)
		return m
	}
	tests := []struct {
		name                            string
		want                            map[string][]int
		missing, unexpected, mismatched []string
	}{
		{name: "exact", want: exact},
		{name: "blob shape checked when given", want: with(func(m map[string][]int) { m["rng/pcg"] = []int{9} })},
		{name: "missing", want: with(func(m map[string][]int) { m["adam/m"] = []int{2}; m["adam/z"] = nil }),
			missing: []string{"adam/m", "adam/z"}},
		{name: "unexpected", want: with(func(m map[string][]int) { delete(m, "rng/pcg"); delete(m, "ema/w") }),
			unexpected: []string{"ema/w", "rng/pcg"}},
		{name: "mismatched", want: with(func(m map[string][]int) { m["params/w"] = []int{3, 2}; m["sampler/pos"] = []int{1} }),
			mismatched: []string{"params/w: file has [2 3], want [3 2]", "sampler/pos: file has [], want [1]"}},
		{name: "all at once", want: map[string][]int{"params/w": {6}, "ema/w": {2, 3}, "other": {1}},
			missing: []string{"other"}, unexpected: []string{"adam/v", "rng/pcg", "sampler/pos"},
			mismatched: []string{"params/w: file has [2 3], want [6]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.CheckShapes(tt.want)
			if tt.missing == nil && tt.unexpected == nil && tt.mismatched == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *ShapeError", err)
			}
			if !slices.Equal(se.Missing, tt.missing) || !slices.Equal(se.Unexpected, tt.unexpected) || !slices.Equal(se.Mismatched, tt.mismatched) {
				t.Errorf("got missing %q unexpected %q mismatched %q", se.Missing, se.Unexpected, se.Mismatched)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoints: ckpt.safetensors does not match the configuration: ") {
				t.Errorf("message %q", msg)
			}
			for _, s := range slices.Concat(tt.missing, tt.unexpected, tt.mismatched) {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
		})
	}
}
