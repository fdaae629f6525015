package train

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestRecordJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		want string // in the JSON
	}{
		{"finite", -2.5, `"loss":-2.5`},
		{"NaN", math.NaN(), `"loss":"NaN"`},
		{"+Inf", math.Inf(1), `"loss":"+Inf"`},
		{"-Inf", math.Inf(-1), `"loss":"-Inf"`},
	} {
		r := Record{Step: 7, Time: 1.5e9, T: 0.25, Loss: tc.loss, MMD2: 3, LR: 3e-4}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(string(b), tc.want) || !strings.HasPrefix(string(b), `{"step":7,"time":1500000000,`) {
			t.Errorf("%s: %s lacks %s", tc.name, b, tc.want)
		}
		var back Record
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		same := back.Loss == r.Loss || (math.IsNaN(back.Loss) && math.IsNaN(r.Loss))
		back.Loss, r.Loss = 0, 0
		if !same || !reflect.DeepEqual(back, r) { // Record holds a slice (Levels) since -groups
			t.Errorf("%s: round trip %+v", tc.name, back)
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(`{"step":1,"loss":"lots"}`), &r); err == nil {
		t.Error(`"lots" accepted as a loss`)
	}
}

// TestRecordLevels: with -groups the record carries every group's level (T is the first); lines without levels, as
// every run before -groups wrote them, read with none, and a record without levels writes none.
func TestRecordLevels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		levels []float64
		want   string
	}{
		{"groups", []float64{0.25, 0.5, 1}, `"levels":[0.25,0.5,1]`},
		{"one level", nil, `"lr":0.0003}`},
	} {
		r := Record{Step: 7, T: 0.25, LR: 3e-4, Levels: tc.levels}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %s lacks %s", tc.name, b, tc.want)
		}
		var back Record
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s: round trip %+v, %v", tc.name, back, err)
		}
	}
	var old Record
	line := `{"step":3,"time":1.5e9,"elapsed":2,"t":0.4,"loss":-1,"mmd2":1,"l2":0,"grad_penalty":0,"grad_norm":1,"param_grad_norm":2,"lr":0.0003}`
	if err := json.Unmarshal([]byte(line), &old); err != nil || old.Levels != nil || old.T != 0.4 || old.Step != 3 {
		t.Errorf("a line without levels: %+v, %v", old, err)
	}
}

// TestLevelDiagJSON: a level's diagnostics survive the round trip with NaN and infinities, and a record written
// before step_cos existed reads with StepCos = GradCos for a clean reference and NaN (unknown) otherwise.
func TestLevelDiagJSON(t *testing.T) {
	l := LevelDiag{T: 0.5, RefT: 0.4, MMD2: math.NaN(), GradCos: 0.7, GradNorm: math.Inf(1), StepCos: 0.6}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var back LevelDiag
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.StepCos != 0.6 || back.GradCos != 0.7 || !math.IsNaN(back.MMD2) || !math.IsInf(back.GradNorm, 1) {
		t.Fatalf("round trip %s gave %+v", b, back)
	}
	for _, tc := range []struct {
		line string
		want float64 // NaN: unknown
	}{
		{`{"t":0.5,"ref_t":0,"grad_cos":0.7}`, 0.7},
		{`{"t":0.5,"ref_t":0.4,"grad_cos":0.7}`, math.NaN()},
	} {
		var l LevelDiag
		if err := json.Unmarshal([]byte(tc.line), &l); err != nil {
			t.Fatal(err)
		}
		if got := l.StepCos; got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: StepCos %v, want %v", tc.line, got, tc.want)
		}
	}
}
