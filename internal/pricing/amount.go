package pricing

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Amount is a sum of US dollars counted in picodollars (10⁻¹² USD), an
// integer: every price of the table is a whole number of picodollars per
// token, so the cost of any usage is exact, and sums of costs are exact
// too, whatever their number. An int64 holds up to about 9.2 million
// dollars; Add saturates instead of wrapping past it.
type Amount int64

// Units of Amount.
const (
	Picodollar  Amount = 1
	Microdollar Amount = 1_000_000
	Dollar      Amount = 1_000_000_000_000
)

// MaxAmount is the largest Amount; sums saturate at it.
const MaxAmount = Amount(math.MaxInt64)

// Add returns a+b, saturating at MaxAmount (amounts are never negative).
func (a Amount) Add(b Amount) Amount {
	if b > MaxAmount-a {
		return MaxAmount
	}
	return a + b
}

// MicrosCeil returns a in whole microdollars, rounded up: what a budget
// counted in microdollars must reserve or charge so that it never
// undercounts.
func (a Amount) MicrosCeil() int64 {
	m := int64(a / Microdollar)
	if a%Microdollar != 0 {
		m++
	}
	return m
}

// Float64 returns a in dollars, for display and metrics; sums must be made
// on Amounts.
func (a Amount) Float64() float64 {
	return float64(a/Dollar) + float64(a%Dollar)/float64(Dollar)
}

// String formats a in dollars with every significant decimal and none
// more: "0", "0.000075", "12.5".
func (a Amount) String() string {
	return string(a.AppendText(nil))
}

// AppendText appends a as String formats it, without allocating when b has
// room.
func (a Amount) AppendText(b []byte) []byte {
	if a < 0 {
		b = append(b, '-')
		if a == math.MinInt64 {
			return append(b, "9223372.036854775808"...)
		}
		a = -a
	}
	b = strconv.AppendInt(b, int64(a/Dollar), 10)
	frac := int64(a % Dollar)
	if frac == 0 {
		return b
	}
	var digits [12]byte
	for i := 11; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 12
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// Price is a price per token in picodollars, which is also the price per
// million tokens in microdollars: Price(150_000) is $0.15 per million
// tokens. The cost of n tokens is n×Price picodollars, exactly.
type Price int64

// PerMTok is one US dollar per million tokens.
const PerMTok Price = 1_000_000

// MaxPrice is the highest price accepted: $100,000 per million tokens, far
// above any real one. With it, no request's cost can overflow an Amount
// before token counts of about 92 million of one kind; Cost saturates past
// that.
const MaxPrice = 100_000 * PerMTok

// errPrice describes the form a price must have.
var errPrice = errors.New("want a number of US dollars per million tokens from 0 to 100000 with at most six decimals, such as 0.15")

// ParsePrice reads a price written in US dollars per million tokens, such
// as "0.15" or "3", exactly: at most six decimals, from 0 to MaxPrice. A
// leading "$" is allowed.
func ParsePrice(s string) (Price, error) {
	s = strings.TrimPrefix(s, "$")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 6 || len(whole) > 6 || !digits(whole) || !digits(frac) {
		return 0, errPrice
	}
	var p int64
	for _, c := range whole {
		p = p*10 + int64(c-'0')
	}
	for i := range 6 {
		p *= 10
		if i < len(frac) {
			p += int64(frac[i] - '0')
		}
	}
	if Price(p) > MaxPrice {
		return 0, errPrice
	}
	return Price(p), nil
}

// digits reports whether s holds only ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// PriceFromFloat converts a price in US dollars per million tokens read as
// a float (from the configuration) exactly: the shortest decimal that reads
// back as f must have at most six decimals.
func PriceFromFloat(f float64) (Price, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, errPrice
	}
	return ParsePrice(strconv.FormatFloat(f, 'f', -1, 64))
}

// String formats p in dollars per million tokens, as the table writes it.
func (p Price) String() string {
	return Amount(p).mul(1_000_000).String()
}

// mul returns a×n, saturating at MaxAmount; n and a are not negative.
func (a Amount) mul(n int64) Amount {
	if n <= 0 || a <= 0 {
		return 0
	}
	if a > MaxAmount/Amount(n) {
		return MaxAmount
	}
	return a * Amount(n)
}
