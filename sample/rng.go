package sample

import "math/rand/v2"

// Random streams. Every draw the package makes comes from a PCG stream seeded by (seed, domain, id), so that a draw
// depends only on what it is for (which particle, level and step), never on chunking, sharding or the order in which
// groups run.
const (
	domainInit   uint64 = 0x1d4e5b0c4a1f3e21 // initial particle noise, id = particle index
	domainInject uint64 = 0x7a3c9e1b55d20f47 // noise injection, id = index<<32 | level*N_s+step
	domainEmbed  uint64 = 0x3f61a2d8c90b7e15 // forward noise for m_N, id = image index<<32 | level
	// domainEmbedRef is the forward noise of m_P at the reference level (RefRatio > 0), id = image index<<32 | level.
	domainEmbedRef uint64 = 0x5c2b8e07d4a1f963
	// domainDDIM is the fresh noise of a stochastic DDIM sub-step (DDIMNoise > 0), id = index<<32 | level*N_s+step.
	domainDDIM uint64 = 0x2e9d4f6a81c3b075
)

// splitmix64 is a bijective 64-bit mixer (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// streams is one reseedable generator: reseeding does not allocate.
type streams struct {
	pcg rand.PCG
	rng *rand.Rand
}

func newStreams() *streams {
	s := &streams{}
	s.rng = rand.New(&s.pcg)
	return s
}

// at reseeds the generator to the stream (seed, domain, id) and returns it.
func (s *streams) at(seed, domain, id uint64) *rand.Rand {
	s.pcg.Seed(splitmix64(seed^domain), splitmix64(id^splitmix64(domain)))
	return s.rng
}
