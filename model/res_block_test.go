package model

import "testing"

func TestResBlockVJP(t *testing.T) { checkBlocks[*resBlock](t) }
