package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size, ch   int
		levels     []int
		headInputs int
	}{
		{"tiny", 8, 1, []int{8, 4}, 8 * 16},
		{"tiny", 16, 3, []int{16, 8}, 8 * 64},
		{"small", 32, 3, []int{16, 8, 4}, 256 * 16},
		{"small", 28, 1, []int{14, 7, 4}, 256 * 16},
		{"small", 64, 3, []int{32, 16, 8}, 256 * 64},
		{"base", 32, 3, []int{32, 16, 8, 4}, 256 * 16},
		{"base", 64, 3, []int{32, 16, 8, 4}, 256 * 16},
	} {
		c, err := Preset(tc.name, tc.size, tc.ch)
		if err != nil {
			t.Fatalf("%s %d: %v", tc.name, tc.size, err)
		}
		if got := c.LevelSizes(); !slices.Equal(got, tc.levels) {
			t.Errorf("%s %d: level sizes %v, want %v", tc.name, tc.size, got, tc.levels)
		}
		if c.HeadInputs() != tc.headInputs {
			t.Errorf("%s %d: head inputs %d, want %d", tc.name, tc.size, c.HeadInputs(), tc.headInputs)
		}
	}
	if _, err := Preset("huge", 32, 3); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good, _ := Preset("tiny", 8, 1)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"size", func(c *Config) { c.ImageSize = 2 }},
		{"channels", func(c *Config) { c.Channels = 2 }},
		{"widths", func(c *Config) { c.Widths = nil }},
		{"zero width", func(c *Config) { c.Widths = []int{4, 0} }},
		{"stride", func(c *Config) { c.StemStride = 3 }},
		{"odd time", func(c *Config) { c.TimeEmbed = 7 }},
		{"pool", func(c *Config) { c.Pool = "max" }},
		{"dtype", func(c *Config) { c.DType = "float16" }},
		{"no time block", func(c *Config) { c.Widths, c.ResBlocks = []int{4}, 0 }},
		{"negative res blocks", func(c *Config) { c.ResBlocks = -1 }},
		{"feature dim", func(c *Config) { c.FeatureDim = 0 }},
	} {
		c := good
		c.Widths = slices.Clone(good.Widths)
		tc.edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

func TestParamsRoundTrip(t *testing.T) {
	for _, dt := range []string{"float32", "float64"} {
		cfg, _ := Preset("tiny", 16, 3)
		cfg.DType = dt
		p, err := Init(cfg, 42)
		if err != nil {
			t.Fatal(err)
		}
		values := p.Export()
		if len(values) != p.Len() {
			t.Fatalf("exported %d tensors, have %d", len(values), p.Len())
		}
		q, _ := NewParams(cfg)
		if err := q.Import(values); err != nil {
			t.Fatal(err)
		}
		for i, s := range p.Specs() {
			if !slices.Equal(p.Float64s(i), q.Float64s(i)) {
				t.Errorf("%s: %s differs after the round trip", dt, s.Name)
			}
		}
		// Export copies: changing p afterwards must not change the exported values.
		p.SetFloat64s(0, make([]float64, p.Specs()[0].Size()))
		if slices.Equal(p.Float64s(0), q.Float64s(0)) {
			t.Errorf("%s: export aliases the parameters", dt)
		}
		// Same seed, same values; different seed, different values.
		r, _ := Init(cfg, 42)
		if !slices.Equal(r.Float64s(4), q.Float64s(4)) {
			t.Errorf("%s: Init is not deterministic", dt)
		}
		o, _ := Init(cfg, 43)
		if slices.Equal(o.Float64s(4), q.Float64s(4)) {
			t.Errorf("%s: different seeds gave the same weights", dt)
		}
	}
}

func TestParamsImportErrors(t *testing.T) {
	cfg, _ := Preset("tiny", 8, 1)
	p, _ := Init(cfg, 1)
	good := p.Export()
	before := p.Float64s(0)
	missing := p.Export()
	delete(missing, "stem.weight")
	extra := p.Export()
	extra["stem.extra"] = []float32{1}
	short := p.Export()
	short["head.bias"] = []float32{1, 2}
	wrongType := p.Export()
	wrongType["head.bias"] = make([]float64, cfg.FeatureDim)
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"missing", missing, "missing stem.weight"},
		{"unexpected", extra, "unexpected stem.extra"},
		{"short", short, "head.bias: 2 values"},
		{"dtype", wrongType, "float64 values for a float32 network"},
	} {
		p.Data(0).([]float32)[0] = 123 // must survive a failed import
		err := p.Import(tc.values)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if p.Data(0).([]float32)[0] != 123 {
			t.Errorf("%s: failed import changed the parameters", tc.name)
		}
	}
	if err := p.Import(good); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Float64s(0), before) {
		t.Error("good import did not restore the values")
	}
}

func TestParamNamesUnique(t *testing.T) {
	cfg, _ := Preset("base", 32, 3)
	seen := map[string]bool{}
	for _, s := range cfg.Specs() {
		if seen[s.Name] {
			t.Errorf("duplicate parameter name %s", s.Name)
		}
		seen[s.Name] = true
	}
}
