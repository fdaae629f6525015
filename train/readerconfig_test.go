package train

import (
	"reflect"
	"testing"

	"github.com/dmmd/dmmd/rundir"
)

// rundir.TrainConfig, the readers' view of a checkpoint's configuration, declares a subset of Config's fields: each
// must have Config's name, type and JSON key, or a reader would silently miss a setting.
func TestReaderConfigIsASubset(t *testing.T) {
	full, view := reflect.TypeFor[Config](), reflect.TypeFor[rundir.TrainConfig]()
	for i := range view.NumField() {
		v := view.Field(i)
		f, ok := full.FieldByName(v.Name)
		switch {
		case !ok:
			t.Errorf("rundir.TrainConfig.%s: Config has no such field", v.Name)
		case f.Type != v.Type:
			t.Errorf("rundir.TrainConfig.%s is %v, Config's is %v", v.Name, v.Type, f.Type)
		case f.Tag.Get("json") != v.Tag.Get("json"):
			t.Errorf("rundir.TrainConfig.%s has JSON key %q, Config's is %q", v.Name, v.Tag.Get("json"), f.Tag.Get("json"))
		}
	}
}
