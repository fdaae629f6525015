package train

import (
	"encoding/json"
	"fmt"
	"math"
)

// jsonFloat is a float64 that JSON can hold even when it is not finite: NaN, +Inf and -Inf are written as the
// strings "NaN", "+Inf" and "-Inf" (Python's float() reads them), so the record of a diverged step is kept.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
	case `"+Inf"`, `"Inf"`:
		*f = jsonFloat(math.Inf(1))
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
	default:
		var v float64
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("not a number: %s", b)
		}
		*f = jsonFloat(v)
	}
	return nil
}

// recordJSON is Record's JSON form.
type recordJSON struct {
	Step          int64       `json:"step"`
	Time          jsonFloat   `json:"time"`
	Elapsed       jsonFloat   `json:"elapsed"`
	T             jsonFloat   `json:"t"`
	Loss          jsonFloat   `json:"loss"`
	MMD2          jsonFloat   `json:"mmd2"`
	L2            jsonFloat   `json:"l2"`
	GradPenalty   jsonFloat   `json:"grad_penalty"`
	GradNorm      jsonFloat   `json:"grad_norm"`
	ParamGradNorm jsonFloat   `json:"param_grad_norm"`
	LR            jsonFloat   `json:"lr"`
	Levels        []jsonFloat `json:"levels,omitempty"`
}

// MarshalJSON writes the record with non-finite values as strings (see jsonFloat).
func (r Record) MarshalJSON() ([]byte, error) {
	var levels []jsonFloat
	for _, t := range r.Levels {
		levels = append(levels, jsonFloat(t))
	}
	return json.Marshal(recordJSON{r.Step, jsonFloat(r.Time), jsonFloat(r.Elapsed), jsonFloat(r.T), jsonFloat(r.Loss),
		jsonFloat(r.MMD2), jsonFloat(r.L2), jsonFloat(r.GradPenalty), jsonFloat(r.GradNorm), jsonFloat(r.ParamGradNorm),
		jsonFloat(r.LR), levels})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var levels []float64
	for _, t := range j.Levels {
		levels = append(levels, float64(t))
	}
	*r = Record{j.Step, float64(j.Time), float64(j.Elapsed), float64(j.T), float64(j.Loss), float64(j.MMD2),
		float64(j.L2), float64(j.GradPenalty), float64(j.GradNorm), float64(j.ParamGradNorm), float64(j.LR), levels}
	return nil
}
