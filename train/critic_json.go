package train

import (
	"encoding/json"
	"math"
	"path/filepath"

	"github.com/dmmd/dmmd/rundir"
)

// DiagnosticsName is the run directory's log of critic diagnostics: one CriticDiag per checkpoint, one JSON
// object per line.
const DiagnosticsName = rundir.DiagnosticsName

// DiagChartName is the chart of the critic diagnostics over training, redrawn at every checkpoint.
const DiagChartName = rundir.DiagChartName

// ReadDiagnostics reads a run's diagnostics.jsonl (nil if there is none; a torn last line is skipped).
func ReadDiagnostics(dir string) ([]CriticDiag, error) {
	var out []CriticDiag
	_, err := readLog(filepath.Join(dir, DiagnosticsName), math.MaxInt64, func(line []byte) error {
		var d CriticDiag
		if err := json.Unmarshal(line, &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// levelDiagJSON is LevelDiag's JSON form: non-finite values (a diverged critic) are written as strings, as in
// metrics.jsonl (jsonFloat).
type levelDiagJSON struct {
	T                jsonFloat  `json:"t"`
	RefT             jsonFloat  `json:"ref_t"`
	MMD2             jsonFloat  `json:"mmd2"`
	MMD2Biased       jsonFloat  `json:"mmd2_biased"`
	CNorm            jsonFloat  `json:"c_norm"`
	WitnessRefMean   jsonFloat  `json:"witness_ref_mean"`
	WitnessRefStd    jsonFloat  `json:"witness_ref_std"`
	WitnessNoisyMean jsonFloat  `json:"witness_noisy_mean"`
	WitnessNoisyStd  jsonFloat  `json:"witness_noisy_std"`
	PRRef            jsonFloat  `json:"pr_ref"`
	PRNoisy          jsonFloat  `json:"pr_noisy"`
	VarAlongC        jsonFloat  `json:"var_along_c"`
	GradCos          jsonFloat  `json:"grad_cos"`
	GradNorm         jsonFloat  `json:"grad_norm"`
	StepCos          *jsonFloat `json:"step_cos"` // absent in files written before it existed
}

// MarshalJSON writes the level's statistics under their JSON names (LevelDiag's tags), NaN and infinities as the
// strings "NaN", "+Inf" and "-Inf".
func (l LevelDiag) MarshalJSON() ([]byte, error) {
	return json.Marshal(levelDiagJSON{jsonFloat(l.T), jsonFloat(l.RefT), jsonFloat(l.MMD2), jsonFloat(l.MMD2Biased),
		jsonFloat(l.CNorm), jsonFloat(l.WitnessRefMean), jsonFloat(l.WitnessRefStd), jsonFloat(l.WitnessNoisyMean),
		jsonFloat(l.WitnessNoisyStd), jsonFloat(l.PRRef), jsonFloat(l.PRNoisy), jsonFloat(l.VarAlongC),
		jsonFloat(l.GradCos), jsonFloat(l.GradNorm), (*jsonFloat)(&l.StepCos)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *LevelDiag) UnmarshalJSON(b []byte) error {
	var j levelDiagJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*l = LevelDiag{float64(j.T), float64(j.RefT), float64(j.MMD2), float64(j.MMD2Biased), float64(j.CNorm),
		float64(j.WitnessRefMean), float64(j.WitnessRefStd), float64(j.WitnessNoisyMean), float64(j.WitnessNoisyStd),
		float64(j.PRRef), float64(j.PRNoisy), float64(j.VarAlongC), float64(j.GradCos), float64(j.GradNorm),
		math.NaN()}
	switch {
	case j.StepCos != nil:
		l.StepCos = float64(*j.StepCos)
	case l.RefT == 0:
		l.StepCos = l.GradCos // an older file: the same cosine when the reference is the clean data
	}
	return nil
}
