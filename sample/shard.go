package sample

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard selects the part of an export one process writes: shard Index of Count takes the flow groups g with
// g % Count == Index (round-robin, so every shard gets a near-equal share and the short last group is not always
// on the same one). Image j belongs to group j / Particles; for ExportReal every image is its own group. The zero
// value is "no sharding" (0/1).
type Shard struct{ Index, Count int }

// ParseShard parses "i/n" (0 <= i < n); "" means 0/1.
func ParseShard(s string) (Shard, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Shard{Index: 0, Count: 1}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("sample: shard %q: want i/n, for example 0/4", s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("sample: shard %q: i and n must be integers", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.Validate(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

// Validate reports whether 0 <= Index < Count (the zero value is valid and means 0/1).
func (s Shard) Validate() error {
	if s == (Shard{}) {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("sample: shard %d/%d: want 0 <= i < n", s.Index, s.Count)
	}
	return nil
}

// String returns "i/n".
func (s Shard) String() string {
	if s == (Shard{}) {
		s.Count = 1
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// MarshalText writes "i/n", or nothing for the zero value (no sharding).
func (s Shard) MarshalText() ([]byte, error) {
	if s == (Shard{}) {
		return nil, nil
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads what ParseShard accepts.
func (s *Shard) UnmarshalText(b []byte) error {
	v, err := ParseShard(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Owns reports whether group g belongs to this shard.
func (s Shard) Owns(g int) bool {
	if s.Count <= 1 {
		return true
	}
	return g%s.Count == s.Index
}
