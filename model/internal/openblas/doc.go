// Package openblas links OpenBLAS for the openblas build tag (see model/internal/gemm). Without the tag it is empty.
package openblas
