package rules

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
)

// Test addresses are generated, never copied: valid checksums over
// payloads derived from a seed, so no real wallet appears in the tests.

func payload(seed string, n int) []byte {
	h := sha256.Sum256([]byte(seed))
	out := h[:]
	for len(out) < n {
		h = sha256.Sum256(h[:])
		out = append(out, h[:]...)
	}
	return out[:n]
}

func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var out []byte
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func base58CheckEncode(version byte, body []byte) string {
	b := append([]byte{version}, body...)
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return base58Encode(append(b, h[:4]...))
}

func convertBits(data []byte, from, to uint) []byte {
	acc, bits := 0, uint(0)
	var out []byte
	for _, v := range data {
		acc = acc<<from | int(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&(1<<to-1)))
		}
	}
	if bits > 0 {
		out = append(out, byte(acc<<(to-bits)&(1<<to-1)))
	}
	return out
}

func bech32Encode(hrp string, data []byte) string {
	values := []byte{}
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	values = append(values, data...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(values) ^ 1
	var sb strings.Builder
	sb.WriteString(hrp + "1")
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	for i := 0; i < 6; i++ {
		sb.WriteByte(bech32Charset[(mod>>(5*(5-i)))&31])
	}
	return sb.String()
}

func cashAddrEncode(data []byte) string {
	prefix := "bitcoincash"
	values := []byte{}
	for i := 0; i < len(prefix); i++ {
		values = append(values, prefix[i]&31)
	}
	values = append(values, 0)
	values = append(values, data...)
	values = append(values, 0, 0, 0, 0, 0, 0, 0, 0)
	c := uint64(1)
	for _, d := range values {
		c0 := byte(c >> 35)
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		for i, g := range []uint64{0x98f2bc8e61, 0x79b76d99e2, 0xf33e5fb3c4, 0xae2eabe2a8, 0x1e4f43e470} {
			if c0&(1<<i) != 0 {
				c ^= g
			}
		}
	}
	mod := c ^ 1
	var sb strings.Builder
	sb.WriteString(prefix + ":")
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	for i := 0; i < 8; i++ {
		sb.WriteByte(bech32Charset[(mod>>(5*(7-i)))&31])
	}
	return sb.String()
}

// addr generates address i of a chain.
func addr(c Chain, i int) string {
	seed := fmt.Sprintf("%s-%d", c, i)
	switch c {
	case ChainBTC:
		if i%2 == 0 {
			return base58CheckEncode(0x00, payload(seed, 20))
		}
		return bech32Encode("bc", append([]byte{0}, convertBits(payload(seed, 20), 8, 5)...))
	case ChainLTC:
		return base58CheckEncode(0x30, payload(seed, 20))
	case ChainTRX:
		return base58CheckEncode(0x41, payload(seed, 20))
	case ChainBCH:
		return cashAddrEncode(convertBits(append([]byte{0}, payload(seed, 20)...), 8, 5))
	case ChainETH:
		return fmt.Sprintf("0x%x", payload(seed, 20))
	case ChainSOL:
		for k := 0; ; k++ {
			s := base58Encode(payload(fmt.Sprintf("%s-%d", seed, k), 32))
			if solanaShaped(s) {
				return s
			}
		}
	}
	return ""
}

// addrList is a JavaScript array literal of n addresses per chain.
func addrList(n int, chains ...Chain) string {
	var parts []string
	for _, c := range chains {
		for i := 0; i < n; i++ {
			parts = append(parts, "'"+addr(c, i)+"'")
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
