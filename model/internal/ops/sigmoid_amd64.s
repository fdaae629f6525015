//go:build amd64 && !purego

#include "textflag.h"

// Constants of sigmoid32 (fastexp.go), as float32 bits: exactly the values the Go code rounds its constants to.
DATA sigc<>+0(SB)/4, $0x80000000  // sign bit
DATA sigc<>+4(SB)/4, $0x3fb8aa3b  // log2(e)
DATA sigc<>+8(SB)/4, $0x3f000000  // 0.5
DATA sigc<>+12(SB)/4, $0x3f318000 // ln2hi
DATA sigc<>+16(SB)/4, $0xb95e8083 // ln2lo
DATA sigc<>+20(SB)/4, $0x3f800000 // 1
DATA sigc<>+24(SB)/4, $0xc2ae0000 // -87
DATA sigc<>+28(SB)/4, $0x3ab60b61 // 1/720
DATA sigc<>+32(SB)/4, $0x3c088889 // 1/120
DATA sigc<>+36(SB)/4, $0x3d2aaaab // 1/24
DATA sigc<>+40(SB)/4, $0x3e2aaaab // 1/6
DATA sigc<>+44(SB)/4, $127        // the float32 exponent bias
GLOBL sigc<>(SB), RODATA|NOPTR, $48

// func sigmoid8(x, s *float32, n int)
//
// s[i] = sigmoid32(x[i]) for i < n, n a multiple of 8, 8 lanes at a time with AVX2: the operations of
// sigmoid32 and exp32 in the same order, each rounded to float32 (no fused multiply-add), so every lane is
// bit-for-bit the scalar result. t = -|x|; e = exp32(t) (0 below -87); s = 1/(1+e) where x >= 0, e/(1+e) else.
TEXT ·sigmoid8(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS sigc<>+0(SB), Y15
	VBROADCASTSS sigc<>+4(SB), Y14
	VBROADCASTSS sigc<>+8(SB), Y13
	VBROADCASTSS sigc<>+12(SB), Y12
	VBROADCASTSS sigc<>+16(SB), Y11
	VBROADCASTSS sigc<>+20(SB), Y10
	VBROADCASTSS sigc<>+24(SB), Y9
	VPBROADCASTD sigc<>+44(SB), Y8

loop:
	VMOVUPS (SI), Y0     // x
	VORPS   Y15, Y0, Y1  // t = -|x|
	VMULPS  Y14, Y1, Y2  // t log2e
	VSUBPS  Y13, Y2, Y2  // - 0.5
	VCVTTPS2DQ Y2, Y2    // ki = int32(...) (truncation, as Go converts)
	VCVTDQ2PS Y2, Y3     // k
	VMULPS  Y12, Y3, Y4  // k ln2hi
	VSUBPS  Y4, Y1, Y4   // t - k ln2hi
	VMULPS  Y11, Y3, Y5  // k ln2lo
	VSUBPS  Y5, Y4, Y4   // r
	VBROADCASTSS sigc<>+28(SB), Y5
	VMULPS  Y5, Y4, Y5   // r/720
	VBROADCASTSS sigc<>+32(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y5, Y4, Y5
	VBROADCASTSS sigc<>+36(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y5, Y4, Y5
	VBROADCASTSS sigc<>+40(SB), Y6
	VADDPS  Y6, Y5, Y5
	VMULPS  Y5, Y4, Y5
	VADDPS  Y13, Y5, Y5  // + 0.5
	VMULPS  Y5, Y4, Y5
	VADDPS  Y10, Y5, Y5  // + 1
	VMULPS  Y5, Y4, Y5
	VADDPS  Y10, Y5, Y5  // p = 1 + r (...)
	VPADDD  Y8, Y2, Y2
	VPSLLD  $23, Y2, Y2  // 2^k
	VMULPS  Y2, Y5, Y5   // e = p 2^k
	VCMPPS  $1, Y9, Y1, Y6 // t < -87
	VANDNPS Y5, Y6, Y5   // e = 0 there
	VADDPS  Y10, Y5, Y6  // 1 + e
	VDIVPS  Y6, Y10, Y7  // 1/(1+e)  (x >= 0)
	VDIVPS  Y6, Y5, Y6   // e/(1+e)  (x < 0)
	VBLENDVPS Y0, Y6, Y7, Y7 // by the sign bit of x
	VMOVUPS Y7, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET
