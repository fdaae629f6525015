package train

import (
	"encoding/json"
	"math"
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
		if !same || back != r {
			t.Errorf("%s: round trip %+v", tc.name, back)
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(`{"step":1,"loss":"lots"}`), &r); err == nil {
		t.Error(`"lots" accepted as a loss`)
	}
}
