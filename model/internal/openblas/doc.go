// Package openblas links OpenBLAS for the openblas build tag (see package model). Without the tag it is empty.
package openblas
