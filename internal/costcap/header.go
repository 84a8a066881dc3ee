package costcap

import (
	"strings"

	"github.com/llmgw/llmgw/internal/llm"
	"github.com/llmgw/llmgw/internal/pricing"
)

// MaxUSD is the largest cap a request may ask for, in US dollars, the same
// bound as a key's max_cost_usd and a budget.
const MaxUSD = 9_000_000

// maxPico is MaxUSD in picodollars.
const maxPico = MaxUSD * int64(pricing.Dollar)

// maxDecimals is the most decimals a cap may have: a picodollar, the unit
// costs are counted in.
const maxDecimals = 12

// ParseHeader reads the values of the x-llmgw-max-cost-usd header: one
// positive decimal number of US dollars, such as "0.05" or "2", at most
// MaxUSD, with at most 12 decimals; no sign, exponent, "$", NaN or
// infinity. It returns the cap in picodollars, exactly. Any other form,
// or the header sent more than once, is a 400 invalid_request_error whose
// param names the header; the message quotes no more than the start of
// what was sent.
func ParseHeader(values []string) (int64, error) {
	if len(values) != 1 {
		return 0, llm.InvalidRequest(Header, "%s must be sent once, with one value", Header)
	}
	v := strings.Trim(values[0], " \t")
	bad := func(why string) error {
		return llm.InvalidRequest(Header, "%s must be a positive number of US dollars such as 0.05 (%s); got %q", Header, why, clip(v))
	}
	whole, frac, dot := strings.Cut(v, ".")
	switch {
	case whole == "" && frac == "":
		return 0, bad("a decimal number")
	case !digits(whole) || !digits(frac) || dot && frac == "":
		return 0, bad("digits with an optional decimal point, no sign, exponent or unit")
	case len(frac) > maxDecimals:
		return 0, bad("at most 12 decimals")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 7 {
		return 0, bad("at most 9000000")
	}
	var pico int64
	for i := 0; i < len(whole); i++ {
		pico = pico*10 + int64(whole[i]-'0')
	}
	for i := range maxDecimals {
		pico *= 10
		if i < len(frac) {
			pico += int64(frac[i] - '0')
		}
	}
	switch {
	case pico == 0:
		return 0, bad("above 0")
	case pico > maxPico:
		return 0, bad("at most 9000000")
	}
	return pico, nil
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

// clip shortens what a client sent for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return strings.ToValidUTF8(s[:32], "") + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
