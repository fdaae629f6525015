package setting

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dmmd/dmmd/diffusion"
)

type conf struct {
	Name   string
	N      int
	Big    int64
	Seed   uint64
	Rate   float64
	On     bool
	Wait   time.Duration
	Dist   diffusion.TDist
	Choice string
	Pair   [2]int
	Extra  int
}

// pair is a flag.Value spanning a field ("3,4").
type pair struct{ p *[2]int }

func (v pair) String() string {
	if v.p == nil {
		return ""
	}
	return fmt.Sprintf("%d,%d", v.p[0], v.p[1])
}

func (v pair) Set(s string) error {
	_, err := fmt.Sscanf(s, "%d,%d", &v.p[0], &v.p[1])
	return err
}

var table = Table[conf]{
	Var("name", func(c *conf) *string { return &c.Name }, "x", "a name", Fixed),
	PerKey("n", func(c *conf) *int { return &c.N }, func(key string) int { return len(key) }, "per key"),
	Var("big", func(c *conf) *int64 { return &c.Big }, 1<<40, "an int64"),
	Var("seed", func(c *conf) *uint64 { return &c.Seed }, 7, "a uint64", Fixed),
	Var("rate", func(c *conf) *float64 { return &c.Rate }, 0.5, "a float"),
	Var("on", func(c *conf) *bool { return &c.On }, true, "a bool"),
	Var("wait", func(c *conf) *time.Duration { return &c.Wait }, time.Minute, "a duration"),
	Var("dist", func(c *conf) *diffusion.TDist { return &c.Dist }, diffusion.TQuad, "an enum", Fixed),
	Var("choice", func(c *conf) *string { return &c.Choice }, "", "a | choice", OneOf("first", "second")),
	Var("pair", func(c *conf) *[2]int { return &c.Pair }, [2]int{1, 2}, "a pair", Also("hidden")).
		WithFlag(func(c *conf) flag.Value { return pair{&c.Pair} }),
	Var("hidden", func(c *conf) *int { return &c.Extra }, 5, "", Hidden),
}

func parse(t *testing.T, args ...string) (conf, map[string]bool, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c conf
	table.SetDefaults(&c, "key")
	table.Register(fs, &c)
	err := fs.Parse(args)
	return c, table.Given(fs), err
}

func TestFlagsParseByType(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want func(*conf)
		set  []string
	}{
		{nil, func(c *conf) {}, nil},
		{[]string{"-name", "y", "-n", "9"}, func(c *conf) { c.Name, c.N = "y", 9 }, []string{"name", "n"}},
		{[]string{"-big", "5", "-seed", "3", "-rate", "1e-3"}, func(c *conf) { c.Big, c.Seed, c.Rate = 5, 3, 1e-3 },
			[]string{"big", "seed", "rate"}},
		{[]string{"-on=false", "-wait", "2h"}, func(c *conf) { c.On, c.Wait = false, 2*time.Hour }, []string{"on", "wait"}},
		{[]string{"-dist", "uniform", "-choice", "second"}, func(c *conf) { c.Dist, c.Choice = diffusion.TUniform, "second" },
			[]string{"dist", "choice"}},
		{[]string{"-pair", "3,4"}, func(c *conf) { c.Pair = [2]int{3, 4} }, []string{"pair", "hidden"}},
	} {
		got, set, err := parse(t, tc.args...)
		want := conf{Name: "x", N: 3, Big: 1 << 40, Seed: 7, Rate: 0.5, On: true, Wait: time.Minute, Dist: diffusion.TQuad,
			Pair: [2]int{1, 2}, Extra: 5}
		tc.want(&want)
		if err != nil || got != want {
			t.Errorf("%v: %+v, %v; want %+v", tc.args, got, err, want)
		}
		if names := slices.Sorted(maps.Keys(set)); !slices.Equal(names, slices.Sorted(slices.Values(tc.set))) {
			t.Errorf("%v: given %v, want %v", tc.args, names, tc.set)
		}
	}
	for _, args := range [][]string{{"-dist", "beta"}, {"-choice", "third"}, {"-hidden", "1"}, {"-n", "x"}} {
		if _, _, err := parse(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestCopyAndDiff(t *testing.T) {
	var a, b conf
	table.SetDefaults(&a, "key")
	table.SetDefaults(&b, "longer")
	b.Name, b.Rate, b.Dist = "z", 2, diffusion.TUniform
	if d := table.Diff(&a, &a); len(d) != 0 {
		t.Errorf("a configuration differs from itself: %+v", d)
	}
	want := []Difference{{"name", true, "x", "z"}, {"n", false, 3, 6}, {"rate", false, 0.5, 2.0},
		{"dist", true, "quad", "uniform"}}
	if d := table.Diff(&a, &b); !slices.Equal(d, want) {
		t.Errorf("Diff = %+v, want %+v", d, want)
	}
	// An empty choice is its first spelling.
	c := a
	c.Choice = "first"
	if d := table.Diff(&a, &c); len(d) != 0 {
		t.Errorf(`"" and "first" differ: %+v`, d)
	}
	if err := table.Copy(&a, &b, map[string]bool{"rate": true, "dist": true}); err != nil {
		t.Fatal(err)
	}
	if a.Rate != 2 || a.Dist != diffusion.TUniform || a.Name != "x" {
		t.Errorf("after Copy: %+v", a)
	}
	if err := table.Copy(&a, &b, map[string]bool{"nonsense": true}); err == nil || !strings.Contains(err.Error(), "-nonsense") {
		t.Errorf("unknown setting: %v", err)
	}
}

func TestTables(t *testing.T) {
	header, rows := table.KeyTable("key", []string{"a", "bcd"})
	if got := Markdown(header, rows); got != "| key | -n |\n|---|---|\n| a | 1 |\n| bcd | 3 |\n" {
		t.Errorf("KeyTable:\n%s", got)
	}
	if got := Text(header, rows); got != "  key   -n\n  a     1\n  bcd   3\n" {
		t.Errorf("Text:\n%q", got)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var c conf
	table.SetDefaults(&c, "key")
	table.Register(fs, &c)
	got := Markdown([]string{"flag", "default", "meaning"}, table.FlagRows(fs, "per key"))
	for _, want := range []string{"| `-name` | `x` | a name |", "| `-n` | per key | per key |", "| `-choice` | `first` | a \\| choice |",
		"| `-pair` | `1,2` | a pair |", "| `-dist` | `quad` |"} {
		if !strings.Contains(got, want) {
			t.Errorf("FlagRows lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "-hidden") {
		t.Errorf("a hidden setting has a row:\n%s", got)
	}
}

func TestRegisterRefusesUnknownTypes(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "-odd") {
			t.Errorf("recovered %v", r)
		}
	}()
	odd := Table[conf]{Var("odd", func(c *conf) *[2]int { return &c.Pair }, [2]int{}, "no flag type")}
	odd.Register(flag.NewFlagSet("test", flag.ContinueOnError), &conf{})
}

// A table declares each setting once; flags, defaults and the resume comparison come from it.
func Example() {
	type config struct {
		Steps int64
		LR    float64
		Dist  diffusion.TDist
	}
	table := Table[config]{
		PerKey("steps", func(c *config) *int64 { return &c.Steps },
			func(dataset string) int64 { return map[string]int64{"mnist": 20000}[dataset] + 1000 }, "total steps"),
		Var("lr", func(c *config) *float64 { return &c.LR }, 3e-4, "learning rate"),
		Var("tdist", func(c *config) *diffusion.TDist { return &c.Dist }, diffusion.TQuad, "level distribution", Fixed),
	}
	var given config
	table.SetDefaults(&given, "mnist")
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	table.Register(fs, &given)
	fs.Parse([]string{"-lr", "1e-3", "-tdist", "uniform"})

	saved := config{}
	table.SetDefaults(&saved, "mnist")
	now := saved
	table.Copy(&now, &given, table.Given(fs)) // only the flags given override the saved run's settings
	for _, d := range table.Diff(&saved, &now) {
		fmt.Printf("-%s %v -> %v (fixed: %t)\n", d.Name, d.From, d.To, d.Fixed)
	}
	// Output:
	// -lr 0.0003 -> 0.001 (fixed: false)
	// -tdist quad -> uniform (fixed: true)
}
