package js

import "unicode/utf8"

// latinLookalikes are Cyrillic and Greek letters drawn like Latin ones
// (Unicode's confusables for a–z and A–Z, the ones fonts render
// identically). An identifier mixing them with Latin letters — isАdmin
// with a Cyrillic А — reads as another identifier: a homoglyph attack.
// Greek letters that look like themselves (Δ, λ, σ, π), which scientific
// code uses as names, are not in the set.
var latinLookalikes = map[rune]bool{
	// Cyrillic lower case: а в е к м н о р с т у х і ј ѕ ԁ ԛ ԝ ӏ
	'а': true, 'в': true, 'е': true, 'к': true, 'м': true, 'н': true, 'о': true, 'р': true, 'с': true,
	'т': true, 'у': true, 'х': true, 'і': true, 'ј': true, 'ѕ': true, 'ԁ': true, 'ԛ': true, 'ԝ': true, 'ӏ': true,
	// Cyrillic upper case: А В Е К М Н О Р С Т Х І Ј Ѕ
	'А': true, 'В': true, 'Е': true, 'К': true, 'М': true, 'Н': true, 'О': true, 'Р': true, 'С': true,
	'Т': true, 'Х': true, 'І': true, 'Ј': true, 'Ѕ': true,
	// Greek: Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ ο
	'Α': true, 'Β': true, 'Ε': true, 'Ζ': true, 'Η': true, 'Ι': true, 'Κ': true, 'Μ': true, 'Ν': true,
	'Ο': true, 'Ρ': true, 'Τ': true, 'Υ': true, 'Χ': true, 'ο': true,
}

// confusableName reports whether an identifier mixes ASCII letters with
// Cyrillic or Greek letters that look like Latin ones.
func confusableName(n string) bool {
	latin, lookalike := false, false
	for i := 0; i < len(n); {
		c := n[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				latin = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(n[i:])
		if latinLookalikes[r] {
			lookalike = true
		}
		i += size
	}
	return latin && lookalike
}
