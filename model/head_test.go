package model

import "testing"

func TestHeadVJP(t *testing.T) { checkBlocks[headBlock](t) }
