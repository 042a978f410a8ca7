package rules

import (
	"crypto/sha256"
	"math/big"
	"strings"
)

// Recognising cryptocurrency addresses. Where a format carries a
// checksum (Base58Check for Bitcoin, Litecoin and Tron; bech32 for
// SegWit; CashAddr for Bitcoin Cash) it is verified, so random tokens in
// minified code are not taken for addresses. Ethereum addresses (40 hex
// digits) have a distinctive shape; Solana addresses (Base58 of 32 bytes)
// have none, and only count in numbers.

// Chain names an address family.
type Chain string

const (
	ChainBTC Chain = "bitcoin"
	ChainLTC Chain = "litecoin"
	ChainBCH Chain = "bitcoin-cash"
	ChainTRX Chain = "tron"
	ChainETH Chain = "ethereum"
	ChainSOL Chain = "solana"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

func base58Decode(s string) ([]byte, bool) {
	if s == "" || len(s) > 64 {
		return nil, false
	}
	n := new(big.Int)
	radix := big.NewInt(58)
	for i := 0; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, false
		}
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(d)))
	}
	b := n.Bytes()
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	return append(make([]byte, zeros), b...), true
}

// base58Check decodes and verifies a Base58Check string, returning the
// version byte.
func base58Check(s string) (version byte, ok bool) {
	b, ok := base58Decode(s)
	if !ok || len(b) != 25 {
		return 0, false
	}
	h := sha256.Sum256(b[:21])
	h = sha256.Sum256(h[:])
	if string(h[:4]) != string(b[21:]) {
		return 0, false
	}
	return b[0], true
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// bech32Valid verifies a bech32 or bech32m string with the given
// human-readable part.
func bech32Valid(s, hrp string) bool {
	if len(s) < len(hrp)+8 || len(s) > 90 || !strings.EqualFold(s[:len(hrp)+1], hrp+"1") {
		return false
	}
	lower := strings.ToLower(s)
	if lower != s && strings.ToUpper(s) != s {
		return false
	}
	data := lower[len(hrp)+1:]
	values := make([]byte, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	for i := 0; i < len(data); i++ {
		d := strings.IndexByte(bech32Charset, data[i])
		if d < 0 {
			return false
		}
		values = append(values, byte(d))
	}
	c := bech32Polymod(values)
	return c == 1 || c == 0x2bc830a3
}

// cashAddrValid verifies a Bitcoin Cash CashAddr (prefix included).
func cashAddrValid(s string) bool {
	prefix, payload, ok := strings.Cut(strings.ToLower(s), ":")
	if !ok || prefix != "bitcoincash" || len(payload) < 42 || len(payload) > 112 {
		return false
	}
	values := make([]byte, 0, len(prefix)+1+len(payload))
	for i := 0; i < len(prefix); i++ {
		values = append(values, prefix[i]&31)
	}
	values = append(values, 0)
	for i := 0; i < len(payload); i++ {
		d := strings.IndexByte(bech32Charset, payload[i])
		if d < 0 {
			return false
		}
		values = append(values, byte(d))
	}
	c := uint64(1)
	for _, d := range values {
		c0 := byte(c >> 35)
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	return c^1 == 0
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ClassifyAddress tells which chain an address token belongs to, if any.
func ClassifyAddress(s string) (Chain, bool) {
	n := len(s)
	switch {
	case n == 42 && (s[:2] == "0x" || s[:2] == "0X") && isHexString(s[2:]):
		// Exclude all-zero and repeated-digit placeholders.
		if l := strings.ToLower(s[2:]); strings.Trim(l, l[:1]) == "" {
			return "", false
		}
		return ChainETH, true
	case n >= 14 && n <= 90 && (strings.HasPrefix(s, "bc1") || strings.HasPrefix(s, "BC1")):
		if bech32Valid(s, "bc") {
			return ChainBTC, true
		}
	case n >= 14 && n <= 90 && (strings.HasPrefix(s, "ltc1") || strings.HasPrefix(s, "LTC1")):
		if bech32Valid(s, "ltc") {
			return ChainLTC, true
		}
	case strings.HasPrefix(strings.ToLower(s), "bitcoincash:"):
		if cashAddrValid(s) {
			return ChainBCH, true
		}
	case n >= 25 && n <= 35:
		if v, ok := base58Check(s); ok {
			switch v {
			case 0x00, 0x05:
				return ChainBTC, true
			case 0x30, 0x32:
				return ChainLTC, true
			case 0x41:
				return ChainTRX, true
			}
			return "", false
		}
	}
	if n >= 32 && n <= 44 {
		if b, ok := base58Decode(s); ok && len(b) == 32 && solanaShaped(s) {
			return ChainSOL, true
		}
	}
	return "", false
}

// solanaShaped rejects base58 strings that are words or padding rather
// than keys: a key mixes upper case, lower case and digits.
func solanaShaped(s string) bool {
	var up, lo, dg bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			lo = true
		case c >= '0' && c <= '9':
			dg = true
		}
	}
	return up && lo && dg
}

// addressTokens splits a string into candidate address tokens.
func addressTokens(s string, fn func(tok string, off int)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		ok := i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == ':')
		if ok {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if n := i - start; n >= 25 && n <= 90 {
				fn(s[start:i], start)
			}
			start = -1
		}
	}
}
