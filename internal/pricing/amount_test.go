package pricing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in   string
		want Price
		ok   bool
	}{
		{"0", 0, true},
		{"3", 3 * PerMTok, true},
		{"0.15", 150_000, true},
		{"0.075", 75_000, true},
		{"0.000001", 1, true},
		{"22.50", 22_500_000, true},
		{"$1.25", 1_250_000, true},
		{".5", 500_000, true},
		{"5.", 5 * PerMTok, true},
		{"100000", MaxPrice, true},
		{"100000.000001", 0, false},
		{"0.0000001", 0, false},
		{"", 0, false},
		{".", 0, false},
		{"-1", 0, false},
		{"1e3", 0, false},
		{"1,5", 0, false},
		{"0x10", 0, false},
		{"1.2.3", 0, false},
		{" 1", 0, false},
		{"9999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParsePrice(tt.in)
		if !tt.ok {
			require.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestPriceFromFloat(t *testing.T) {
	for f, want := range map[float64]Price{0.15: 150_000, 0.075: 75_000, 0: 0, 3: 3 * PerMTok, 0.000001: 1} {
		got, err := PriceFromFloat(f)
		require.NoError(t, err, "%v", f)
		require.Equal(t, want, got, "%v", f)
	}
	a, b := 0.1, 0.2 // at run time, a+b is 0.30000000000000004
	for _, f := range []float64{math.NaN(), math.Inf(1), -0.5, 1e-7, a + b, 1e6} {
		_, err := PriceFromFloat(f)
		require.Error(t, err, "%v", f)
	}
}

func TestAmountString(t *testing.T) {
	tests := map[Amount]string{
		0:                    "0",
		1:                    "0.000000000001",
		75 * Microdollar:     "0.000075",
		Dollar:               "1",
		12*Dollar + Dollar/2: "12.5",
		MaxAmount:            "9223372.036854775807",
		-Dollar / 4:          "-0.25",
		math.MinInt64:        "-9223372.036854775808",
	}
	for a, want := range tests {
		require.Equal(t, want, a.String())
	}
	require.Equal(t, "0.15", Price(150_000).String())
	require.Equal(t, "22.5", Price(22_500_000).String())
}

func TestAmountMicrosCeil(t *testing.T) {
	require.Equal(t, int64(0), Amount(0).MicrosCeil())
	require.Equal(t, int64(1), Amount(1).MicrosCeil())
	require.Equal(t, int64(1), Microdollar.MicrosCeil())
	require.Equal(t, int64(2), (Microdollar + 1).MicrosCeil())
	require.Equal(t, int64(1_000_000), Dollar.MicrosCeil())
}

func TestAmountAddSaturates(t *testing.T) {
	require.Equal(t, 3*Dollar, Dollar.Add(2*Dollar))
	require.Equal(t, MaxAmount, (MaxAmount - 1).Add(2))
	require.Equal(t, MaxAmount, MaxAmount.Add(MaxAmount))
	require.Equal(t, MaxAmount, Amount(MaxPrice).mul(math.MaxInt64/2))
	require.Equal(t, Amount(0), Amount(5).mul(-3))
}

// A million requests of one prompt token at $0.075 per million tokens cost
// exactly $0.075: the amounts are integers, where float64 dollars drift.
func TestManyTinyCostsSumExactly(t *testing.T) {
	e := &Entry{Rates: Rates{Input: 75_000, CachedInput: 75_000, CacheWrite: 75_000, CacheWrite1h: 75_000}}
	var sum Amount
	var float float64
	for range 1_000_000 {
		c := e.Cost(usage(1, 0))
		sum = sum.Add(c.Total)
		float += 0.075 / 1e6
	}
	require.Equal(t, 75*Dollar/1000, sum)
	require.Equal(t, "0.075", sum.String())
	require.NotEqual(t, 0.075, float, "float64 sums drift; the integer sum above does not")
}
