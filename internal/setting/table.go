package setting

import (
	"flag"
	"fmt"
	"reflect"
	"slices"
)

// Table is the one list of a configuration's settings; its order is the order of -h tables, generated docs and
// resume messages.
type Table[C any] []Setting[C]

// Lookup returns the setting named name.
func (t Table[C]) Lookup(name string) (Setting[C], bool) {
	i := slices.IndexFunc(t, func(s Setting[C]) bool { return s.name == name })
	if i < 0 {
		return Setting[C]{}, false
	}
	return t[i], true
}

// SetDefaults stores every setting's default for key in c (fields outside the table are left as they are).
func (t Table[C]) SetDefaults(c *C, key string) {
	for _, s := range t {
		s.def(c, key)
	}
}

// Register defines a flag on fs for every setting that is not Hidden, bound to its field in c; c's values are the
// defaults the flags show, so fill c first (SetDefaults).
func (t Table[C]) Register(fs *flag.FlagSet, c *C) {
	for _, s := range t {
		if !s.hidden {
			s.register(fs, c)
		}
	}
}

// Given returns the names of the settings whose flags were given on fs (after fs.Parse), with the settings they
// also set (Also). Flags of fs that are not in the table are left out.
func (t Table[C]) Given(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		if s, ok := t.Lookup(f.Name); ok {
			set[s.name] = true
			for _, name := range s.also {
				set[name] = true
			}
		}
	})
	return set
}

// Copy copies the settings named in set from src into dst; a name the table does not hold is an error.
func (t Table[C]) Copy(dst, src *C, set map[string]bool) error {
	for name := range set {
		s, ok := t.Lookup(name)
		if !ok {
			return fmt.Errorf("setting: unknown setting -%s", name)
		}
		s.copy(dst, src)
	}
	return nil
}

// Difference is a setting whose value differs between two configurations.
type Difference struct {
	Name     string
	Fixed    bool // the setting is Fixed: a resumed run may not change it
	From, To any  // the values as Setting.Get returns them
}

// Diff lists, in table order, the settings whose values differ from a to b.
func (t Table[C]) Diff(a, b *C) []Difference {
	var out []Difference
	for _, s := range t {
		if x, y := s.get(a), s.get(b); !reflect.DeepEqual(x, y) {
			out = append(out, Difference{Name: s.name, Fixed: s.fixed, From: x, To: y})
		}
	}
	return out
}
