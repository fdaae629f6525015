package train

import "encoding/json"

// MarshalJSON writes the run settings; DiagN is written as "diag_n" only when it is not DefaultDiagN, so that the
// defaults and configurations written before -diag-n existed read and write back unchanged.
func (r RunSettings) MarshalJSON() ([]byte, error) {
	type plain RunSettings
	out := struct {
		plain
		DiagN *int `json:"diag_n,omitempty"`
	}{plain: plain(r)}
	if r.DiagN != DefaultDiagN {
		n := r.DiagN
		out.DiagN = &n
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes: a missing "diag_n" is DefaultDiagN.
func (r *RunSettings) UnmarshalJSON(b []byte) error {
	type plain RunSettings
	in := struct {
		*plain
		DiagN *int `json:"diag_n"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	r.DiagN = DefaultDiagN
	if in.DiagN != nil {
		r.DiagN = *in.DiagN
	}
	return nil
}
