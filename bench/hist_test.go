package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRangeHoldsItsValues(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456789, 1 << 40, 1<<62 + 12345} {
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d: bucket %d holds [%d, %d]", v, i, lo, hi)
		}
		if v >= subBuckets && float64(hi-lo)/float64(lo) > 1.0/subBuckets {
			t.Errorf("value %d: bucket [%d, %d] wider than 1/%d", v, lo, hi, subBuckets)
		}
		if i > 0 {
			_, prevHi := bucketRange(i - 1)
			if prevHi+1 != lo {
				t.Errorf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
			}
		}
	}
}

func TestQuantileWithinRelativeError(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform 0-10ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential 1ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(time.Millisecond)) }},
		{"tiny values", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(100)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			var vals []int64
			for range 20000 {
				d := tt.gen(r)
				h.Record(d)
				vals = append(vals, int64(d))
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := vals[int(q*float64(len(vals))+0.999999)-1]
				got := int64(h.Quantile(q))
				tol := max(float64(want)/subBuckets, 1)
				if diff := float64(got - want); diff > tol || diff < -tol {
					t.Errorf("q%.3f = %d, want %d ± %.0f", q, got, want, tol)
				}
			}
			if h.Count() != 20000 {
				t.Errorf("count %d", h.Count())
			}
			if int64(h.Max()) != vals[len(vals)-1] {
				t.Errorf("max %d, want %d", h.Max(), vals[len(vals)-1])
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram should report zeros")
	}
	var one Histogram
	one.Record(1234567)
	for _, q := range []float64{0, 0.5, 1} {
		if got := one.Quantile(q); got != 1234567 {
			t.Errorf("single value: q%v = %d, want it exactly (clamped to min and max)", q, got)
		}
	}
	var neg Histogram
	neg.Record(-5)
	if neg.Quantile(0.5) != 0 {
		t.Errorf("negative duration should count as 0, got %v", neg.Quantile(0.5))
	}
}

func TestMerge(t *testing.T) {
	var a, b, both Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		both.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a.Count() != both.Count() || a.Mean() != both.Mean() || a.Max() != both.Max() {
		t.Fatalf("merged count/mean/max %d/%v/%v, want %d/%v/%v", a.Count(), a.Mean(), a.Max(), both.Count(), both.Mean(), both.Max())
	}
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if a.Quantile(q) != both.Quantile(q) {
			t.Errorf("q%v: merged %v, single %v", q, a.Quantile(q), both.Quantile(q))
		}
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(time.Duration(i*7919) % time.Second)
		i++
	}
}
