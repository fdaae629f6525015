package model

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dmmd/dmmd/internal/sharedtest"
)

// parameterTable renders the parameter table of the package documentation from the blocks' declarations: one row
// per tensor of the tiny preset with a hidden head layer, which has every block type and tensor, with the indices of
// repeated blocks as letters (one row per distinct documented name).
func parameterTable(t *testing.T) string {
	cfg, err := Preset("tiny", 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HeadHidden = 16
	seen := map[string]bool{}
	var sb strings.Builder
	for _, p := range newNetwork(cfg).params() {
		if seen[p.doc] {
			continue
		}
		seen[p.doc] = true
		row := fmt.Sprintf("//\t%-32s%-26s", p.doc, p.docShape()+"  ")
		if len(p.note) > 0 {
			row += p.note[0]
		}
		sb.WriteString(strings.TrimRight(row, " ") + "\n")
		for _, n := range p.note[min(1, len(p.note)):] {
			sb.WriteString("//\t" + strings.Repeat(" ", 58) + n + "\n")
		}
	}
	// The end marker follows on a line of its own inside the comment.
	return sb.String() + "//\t"
}

// TestParameterTable: the parameter table in doc.go is generated from the blocks' parameter declarations
// (DMMD_UPDATE_DOCS=1 go test ./model -run ParameterTable rewrites it).
func TestParameterTable(t *testing.T) {
	sharedtest.Generated(t, "doc.go", "model parameters", parameterTable(t))
}

// symbolValue evaluates a symbol of the parameter table for the tensor of the given name.
func symbolValue(cfg Config, name, sym string) (int, error) {
	switch sym {
	case "TimeEmbed":
		return cfg.TimeEmbed, nil
	case "TimeHidden":
		return cfg.TimeHidden, nil
	case "Channels":
		return cfg.Channels, nil
	case "FeatureDim":
		return cfg.FeatureDim, nil
	case "Widths[0]":
		return cfg.Widths[0], nil
	case "F":
		return cfg.HeadInputs(), nil
	case "HeadHidden":
		return cfg.HeadHidden, nil
	case "W", "W'":
		var l int
		if _, err := fmt.Sscanf(name, "levels.%d.", &l); err != nil {
			return 0, fmt.Errorf("%s outside a level", sym)
		}
		if sym == "W'" {
			l++
		}
		return cfg.Widths[l], nil
	}
	return strconv.Atoi(sym)
}

// TestSpecsFromBlocks: Config.Specs is the concatenation of the blocks' tensors, every documented axis evaluates to
// the size of the tensor's axis, and every block declares tensors, for every preset and both pools, and with a hidden
// head layer.
func TestSpecsFromBlocks(t *testing.T) {
	for _, name := range Presets() {
		for _, pool := range []string{"flatten", "mean", "flatten+hidden"} {
			cfg, err := Preset(name, 32, 3)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Pool = strings.TrimSuffix(pool, "+hidden")
			if cfg.Pool != pool {
				cfg.HeadHidden = 24
			}
			specs := cfg.Specs()
			var all []ParamSpec
			for _, b := range newNetwork(cfg).blocks() {
				ps := b.params()
				if len(ps) == 0 {
					t.Errorf("%s/%s: block %T declares no tensors", name, pool, b)
				}
				for _, p := range ps {
					for i, d := range p.shape {
						if v, err := symbolValue(cfg, p.name, d.sym); err != nil || v != d.n {
							t.Errorf("%s/%s: %s: axis %d is %d, documented as %s = %d (%v)", name, pool, p.name, i, d.n,
								d.sym, v, err)
						}
					}
					all = append(all, p.spec())
				}
			}
			if !slices.EqualFunc(all, specs, func(a, b ParamSpec) bool {
				return a.Name == b.Name && slices.Equal(a.Shape, b.Shape)
			}) {
				t.Errorf("%s/%s: Specs differs from the blocks' tensors", name, pool)
			}
		}
	}
}
