package model

import "testing"

func TestStemVJP(t *testing.T) { checkBlocks[*stem](t) }
