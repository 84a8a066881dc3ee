package ledger

import "github.com/prometheus/client_golang/prometheus"

// Collector returns the writer's metrics: records written, spooled and
// dropped (lost: the spool full or the disk refusing), the spool's size
// and the queue's length. Register it once per process.
func (w *Writer) Collector() prometheus.Collector { return collector{w} }

type collector struct{ w *Writer }

var (
	descWritten = prometheus.NewDesc("llmgw_ledger_records_written_total",
		"Usage records inserted into the store.", nil, nil)
	descSpooled = prometheus.NewDesc("llmgw_ledger_records_spooled_total",
		"Usage records appended to the local spool while the store did not take them.", nil, nil)
	descDropped = prometheus.NewDesc("llmgw_ledger_records_dropped_total",
		"Usage records lost because the spool was full or the disk refused a write.", nil, nil)
	descSpoolBytes = prometheus.NewDesc("llmgw_ledger_spool_bytes",
		"Size of the local spool of usage records waiting for the store.", nil, nil)
	descQueue = prometheus.NewDesc("llmgw_ledger_queue_length",
		"Usage records waiting in memory to be written.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWritten
	ch <- descSpooled
	ch <- descDropped
	ch <- descSpoolBytes
	ch <- descQueue
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	ch <- prometheus.MustNewConstMetric(descWritten, prometheus.CounterValue, float64(s.Written))
	ch <- prometheus.MustNewConstMetric(descSpooled, prometheus.CounterValue, float64(s.Spooled))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(descSpoolBytes, prometheus.GaugeValue, float64(s.SpoolBytes))
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.QueueLength))
}
