// Package setting derives what a program needs to know about its settings from one table: the command-line flags
// and their help, the defaults (which may depend on a key, such as the dataset), which settings a user gave, the copy
// of those into a configuration, and the comparison a resumed run makes (what differs, and whether it may).
//
// Each entry of a Table names a field of the configuration type C by a function returning a pointer to it; the
// field's type says how its flag is parsed: bool, int, int64, uint64, float64, string, time.Duration, or a type
// whose pointer implements encoding.TextUnmarshaler and whose value implements encoding.TextMarshaler (registered
// with flag.TextVar; the enums of this module). OneOf restricts a string field to a list of spellings, and
// WithFlag gives a setting its own flag.Value.
package setting

import (
	"encoding"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Setting is one entry of a Table of settings of the configuration type C. Build it with Var or PerKey.
type Setting[C any] struct {
	name, help string
	options
	perKey bool
	field  func(*C) any        // a pointer to the setting's field
	def    func(*C, string)    // stores the default for a key
	get    func(*C) any        // the value compared on resume (enums and choices: their text)
	show   func(*C) string     // the value as help and tables show it
	copy   func(dst, src *C)   // copies the field
	value  func(*C) flag.Value // a custom flag (WithFlag), or nil
}

type options struct {
	fixed, hidden bool
	also          []string
	choices       []string
}

// Option modifies a setting (Fixed, Hidden, Also, OneOf).
type Option func(*options)

// Fixed marks a setting that a resumed run must keep: it changes the model, the data or the random streams.
func Fixed(o *options) { o.fixed = true }

// Hidden marks a setting that has no flag of its own: another setting's flag sets it (see Also).
func Hidden(o *options) { o.hidden = true }

// Also names settings that a setting's flag sets too: given the flag, they count as given (-ckpt-every sets the
// checkpoint interval as well as the step count).
func Also(names ...string) Option { return func(o *options) { o.also = append(o.also, names...) } }

// OneOf restricts a string setting to the given spellings. The first is what the empty string means (a field that
// older configurations leave empty): the flag shows it, and the resume comparison reads "" as it.
func OneOf(choices ...string) Option { return func(o *options) { o.choices = choices } }

// Var is a setting stored in the field that field points to, with one default for every key.
func Var[C, T any](name string, field func(*C) *T, def T, help string, opts ...Option) Setting[C] {
	s := PerKey(name, field, func(string) T { return def }, help, opts...)
	s.perKey = false
	return s
}

// PerKey is a setting whose default depends on a key (for the trainer: the dataset).
func PerKey[C, T any](name string, field func(*C) *T, def func(key string) T, help string, opts ...Option) Setting[C] {
	s := Setting[C]{name: name, help: help, perKey: true}
	for _, o := range opts {
		o(&s.options)
	}
	choices := s.choices
	s.field = func(c *C) any { return field(c) }
	s.def = func(c *C, key string) { *field(c) = def(key) }
	s.copy = func(dst, src *C) { *field(dst) = *field(src) }
	s.show = func(c *C) string { return text(*field(c), choices) }
	s.get = func(c *C) any {
		v := any(*field(c))
		if _, ok := v.(encoding.TextMarshaler); ok || choices != nil {
			return text(v, choices)
		}
		return v
	}
	return s
}

// WithFlag returns s with its flag parsed by the flag.Value that value returns for a configuration (a value that
// spans several fields, for instance).
func (s Setting[C]) WithFlag(value func(*C) flag.Value) Setting[C] {
	s.value = value
	return s
}

// text is how v reads in help and tables: its text if it has one, the first choice for an empty choice.
func text(v any, choices []string) string {
	if s, ok := v.(string); ok && s == "" && len(choices) > 0 {
		return choices[0]
	}
	if m, ok := v.(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// Name is the setting's flag name, without the dash; errors, resume messages and histories use it too.
func (s Setting[C]) Name() string { return s.name }

// Help is the flag's usage text.
func (s Setting[C]) Help() string { return s.help }

// IsFixed reports whether a resumed run must keep the setting (Fixed).
func (s Setting[C]) IsFixed() bool { return s.fixed }

// IsHidden reports whether the setting has no flag of its own (Hidden).
func (s Setting[C]) IsHidden() bool { return s.hidden }

// IsPerKey reports whether the setting's default depends on the key (PerKey).
func (s Setting[C]) IsPerKey() bool { return s.perKey }

// Get returns the setting's value in c as a resumed run compares it: the text of an enum (and the meaning of an
// empty choice), the plain value otherwise.
func (s Setting[C]) Get(c *C) any { return s.get(c) }

// Text returns the setting's value in c as help and tables show it.
func (s Setting[C]) Text(c *C) string { return s.show(c) }

// register defines the setting's flag on fs, bound to the field of c, whose value is the default shown.
func (s Setting[C]) register(fs *flag.FlagSet, c *C) {
	if s.value != nil {
		fs.Var(s.value(c), s.name, s.help)
		return
	}
	if s.choices != nil {
		p, ok := s.field(c).(*string)
		if !ok {
			panic(fmt.Sprintf("setting: -%s: OneOf needs a string field, not %T", s.name, s.field(c)))
		}
		fs.Var(&choice{p: p, choices: s.choices}, s.name, s.help)
		return
	}
	switch p := s.field(c).(type) {
	case *bool:
		fs.BoolVar(p, s.name, *p, s.help)
	case *int:
		fs.IntVar(p, s.name, *p, s.help)
	case *int64:
		fs.Int64Var(p, s.name, *p, s.help)
	case *uint64:
		fs.Uint64Var(p, s.name, *p, s.help)
	case *float64:
		fs.Float64Var(p, s.name, *p, s.help)
	case *string:
		fs.StringVar(p, s.name, *p, s.help)
	case *time.Duration:
		fs.DurationVar(p, s.name, *p, s.help)
	case encoding.TextUnmarshaler:
		def, ok := reflect.ValueOf(p).Elem().Interface().(encoding.TextMarshaler)
		if !ok {
			panic(fmt.Sprintf("setting: -%s: %T has no MarshalText", s.name, p))
		}
		fs.TextVar(p, s.name, def, s.help)
	default:
		panic(fmt.Sprintf("setting: -%s: no flag for a %T; give it WithFlag", s.name, p))
	}
}

// choice is the flag of a OneOf setting.
type choice struct {
	p       *string
	choices []string
}

func (c *choice) String() string {
	if c.p == nil {
		return ""
	}
	return text(*c.p, c.choices)
}

func (c *choice) Set(s string) error {
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("want %s", orList(c.choices))
	}
	*c.p = s
	return nil
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
