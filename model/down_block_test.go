package model

import "testing"

func TestDownBlockVJP(t *testing.T) { checkBlocks[*downBlock](t) }
