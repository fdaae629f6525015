package model

import "github.com/dmmd/dmmd/model/internal/testutil"

// Small numeric helpers of the network-level tests, shared with the ops tests through internal/testutil.
var (
	randSlice = testutil.RandSlice
	dot       = testutil.Dot
	to64      = testutil.To64
)
