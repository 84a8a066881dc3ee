package alert

import "math/bits"

// DefaultThresholds are the percentages of a budget's limit alerted on
// when none are configured.
var DefaultThresholds = []int{50, 80, 100}

// Crossed returns the thresholds (percentages of limit, in the order
// given) that spending moving from before to after has reached: those
// whose amount, limit×threshold/100 rounded up, is above before and at
// most after. A limit of 0 or less crosses nothing.
func Crossed(limit, before, after int64, thresholds []int) []int {
	if limit <= 0 || after <= before {
		return nil
	}
	var out []int
	for _, t := range thresholds {
		if t < 1 || t > 100 {
			continue
		}
		at := share(limit, t)
		if before < at && after >= at {
			out = append(out, t)
		}
	}
	return out
}

// share returns limit×pct/100 rounded up, exactly (the product may not
// fit in 64 bits).
func share(limit int64, pct int) int64 {
	hi, lo := bits.Mul64(uint64(limit), uint64(pct))
	q, r := bits.Div64(hi, lo, 100)
	if r != 0 {
		q++
	}
	return int64(q)
}
