package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"keyport"
	"keyport/store"
)

// verification is the outcome of authenticating one /v1 request by its key.
type verification int

// The outcomes of a /v1 key check, in the order the checks run.
const (
	verifiedOK verification = iota
	verifyMissing
	verifyMalformed
	verifyUnknown
	verifyRevoked
	verifyExpired
	verifyDisabled
	verifyRateLimited
	verifyForbidden
	verifyPublishable
	verifyOriginRefused
	verifyFailed
	verifications
)

// verificationLabels are the result label values of keyport_api_key_verifications_total.
var verificationLabels = [verifications]string{
	verifiedOK:          "ok",
	verifyMissing:       "missing",
	verifyMalformed:     "malformed",
	verifyUnknown:       "unknown",
	verifyRevoked:       "revoked",
	verifyExpired:       "expired",
	verifyDisabled:      "disabled",
	verifyRateLimited:   "rate_limited",
	verifyForbidden:     "forbidden",
	verifyPublishable:   "publishable_not_allowed",
	verifyOriginRefused: "origin_not_allowed",
	verifyFailed:        "error",
}

// verificationOf names why the Verifier refused a key; err is what Verify returned.
func verificationOf(err error) verification {
	switch err {
	case keyport.ErrKeyMalformed:
		return verifyMalformed
	case keyport.ErrKeyUnknown:
		return verifyUnknown
	case keyport.ErrKeyRevoked:
		return verifyRevoked
	case keyport.ErrKeyExpired:
		return verifyExpired
	case keyport.ErrKeyDisabled:
		return verifyDisabled
	}
	return verifyFailed
}

// loginResult is the outcome of one POST /login.
type loginResult int

// The outcomes of a sign-in.
const (
	loginSucceeded loginResult = iota
	loginWrongCredentials
	loginThrottled
	loginRefused
	loginIncomplete
	loginResults
)

// loginLabels are the result label values of keyport_logins_total.
var loginLabels = [loginResults]string{
	loginSucceeded:        "success",
	loginWrongCredentials: "wrong_credentials",
	loginThrottled:        "throttled",
	loginRefused:          "merchant_disabled",
	loginIncomplete:       "incomplete_form",
}

// statusLabels holds the status label value of every HTTP status code, so
// that labelling a request allocates nothing.
var statusLabels = func() (labels [600]string) {
	for code := range labels {
		labels[code] = strconv.Itoa(code)
	}
	return labels
}()

func statusLabel(code int) string {
	if code < 100 || code >= len(statusLabels) {
		return "other"
	}
	return statusLabels[code]
}

// methodLabel bounds the method label to the methods HTTP defines.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// unmatchedRoute labels the requests no route answers, so that a scan of
// random paths adds no series.
const unmatchedRoute = "unmatched"

// metrics are the Prometheus metrics of one Server, in a registry of their own.
// Labels name endpoints, route patterns, methods, statuses and outcomes only:
// never a merchant, key, user or raw path.
type metrics struct {
	registry *prometheus.Registry
	// endpoints maps an API endpoint's route pattern to its documented path.
	endpoints map[string]string

	apiRequests    *prometheus.CounterVec
	apiDuration    *prometheus.HistogramVec
	verifyDuration prometheus.Histogram
	verified       [verifications]prometheus.Counter

	portalRequests *prometheus.CounterVec
	portalDuration *prometheus.HistogramVec
	logins         [loginResults]prometheus.Counter

	usageFlushDuration prometheus.Histogram
	usageFlushFailures prometheus.Counter

	sweepsOK, sweepsFailed prometheus.Counter
	keysExpired            prometheus.Counter

	deliveriesSent, deliveriesFailed, deliveriesHeld prometheus.Counter
	deliveryDuration                                 prometheus.Histogram
}

// apiBuckets are the latency buckets of /v1 answers and key checks, in
// seconds: most answer in well under a millisecond.
var apiBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// portalBuckets are the latency buckets of portal pages and forms, in seconds.
var portalBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// newMetrics registers every metric of s, reading s's verifier, usage
// recorder, sessions and database at scrape time.
func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{registry: reg, endpoints: make(map[string]string, len(keyport.APIEndpoints))}
	for _, ep := range keyport.APIEndpoints {
		m.endpoints[ep.RoutePath()] = ep.Path
	}
	f := factory{reg: reg}

	m.apiRequests = f.counterVec("keyport_api_requests_total",
		"Answers of the /v1 API by method, endpoint (its documented path) and status.", "method", "endpoint", "status")
	m.apiDuration = f.histogramVec("keyport_api_request_duration_seconds",
		"Time to answer a /v1 request, by method and endpoint.", apiBuckets, "method", "endpoint")
	m.verifyDuration = f.histogram("keyport_api_key_verification_duration_seconds",
		"Time to verify the key of a /v1 request, from memory or from the database.", apiBuckets)
	results := f.counterVec("keyport_api_key_verifications_total",
		"Keys presented to the /v1 API by result: ok, or why the request was refused.", "result")
	for v, label := range verificationLabels {
		m.verified[v] = results.WithLabelValues(label)
	}
	f.counterFunc("keyport_verifier_cache_hits_total",
		"Well-formed keys the verifier answered from memory.", func() float64 { h, _ := s.verifier.CacheStats(); return float64(h) })
	f.counterFunc("keyport_verifier_cache_misses_total",
		"Well-formed keys the verifier read from the database.", func() float64 { _, miss := s.verifier.CacheStats(); return float64(miss) })
	f.gaugeFuncs("keyport_verifier_cache_entries",
		"Answers the verifier holds in memory, keys the database holds and keys it does not.", "kind",
		map[string]func() float64{
			"known":   func() float64 { known, _ := s.verifier.CacheSizes(); return float64(known) },
			"unknown": func() float64 { _, unknown := s.verifier.CacheSizes(); return float64(unknown) },
		})
	invalidations := make(map[string]func() float64)
	for _, source := range store.InvalidationSources() {
		invalidations[source.String()] = func() float64 { return float64(s.db.KeyInvalidations(source)) }
	}
	f.counterFuncs("keyport_verifier_invalidations_total",
		"Key changes that dropped cached keys, by source: committed here (local), another replica's notification, "+
			"or a reset that emptied the cache after a missed notification (poll) or a listener (re)connecting (reconnect).",
		"source", invalidations)
	if s.db.Engine() == store.Postgres {
		f.gaugeFunc("keyport_key_listener_up",
			"1 while this replica's connection listening for other replicas' key changes is up, else 0.",
			func() float64 {
				if s.db.KeyListenerStats().Connected {
					return 1
				}
				return 0
			})
	}

	m.usageFlushDuration = f.histogram("keyport_usage_flush_duration_seconds",
		"Time to write one batch of API key usage to the database.", portalBuckets)
	m.usageFlushFailures = f.counter("keyport_usage_flush_failures_total",
		"Usage flushes that failed; their counts are kept for the next flush.")
	f.gaugeFunc("keyport_usage_pending_keys", "Keys whose API calls are counted in memory and not yet written.",
		func() float64 { return float64(s.usage.PendingKeys()) })
	f.gaugeFunc("keyport_usage_pending_calls", "API calls counted in memory and not yet written.",
		func() float64 { return float64(s.usage.Pending()) })

	m.portalRequests = f.counterVec("keyport_portal_requests_total",
		"Answers of the portal (pages, forms, static files, probes) by method, route pattern and status.", "method", "route", "status")
	m.portalDuration = f.histogramVec("keyport_portal_request_duration_seconds",
		"Time to answer a portal request, by method and route pattern.", portalBuckets, "method", "route")
	logins := f.counterVec("keyport_logins_total",
		"Sign-in attempts by result; throttled ones were refused before the password was checked.", "result")
	for r, label := range loginLabels {
		m.logins[r] = logins.WithLabelValues(label)
	}
	sweeps := f.counterVec("keyport_expiry_sweeps_total",
		"Runs of the sweep that writes the audit event of every key past its expiry, by result.", "result")
	m.sweepsOK, m.sweepsFailed = sweeps.WithLabelValues("ok"), sweeps.WithLabelValues("error")
	m.keysExpired = f.counter("keyport_keys_expired_total", "Keys the expiry sweep found past their expiry.")

	deliveries := f.counterVec("keyport_outbox_deliveries_total",
		"Delivery attempts of outbox messages by result: sent (the mail server accepted it), error (to be retried "+
			"or given up), held (no SMTP server configured).", "result")
	m.deliveriesSent, m.deliveriesFailed, m.deliveriesHeld = deliveries.WithLabelValues("sent"), deliveries.WithLabelValues("error"),
		deliveries.WithLabelValues("held")
	m.deliveryDuration = f.histogram("keyport_outbox_delivery_duration_seconds",
		"Time of one delivery attempt of an outbox message, rendering and SMTP included.", portalBuckets)

	reg.MustRegister(databaseCollector{db: s.db, sessions: s.sessions})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.registry, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry}))
}

// observeRequest counts one answer under the /v1 API's metrics or the portal's.
func (m *metrics) observeRequest(c echo.Context, status int, took time.Duration) {
	if m == nil {
		return
	}
	method := methodLabel(c.Request().Method)
	route := c.Path()
	if isAPIRequest(c) {
		endpoint, ok := m.endpoints[route]
		if !ok {
			endpoint = route
			if route == "" || route == "/v1" || route == "/v1/*" {
				endpoint = unmatchedRoute
			}
		}
		m.apiRequests.WithLabelValues(method, endpoint, statusLabel(status)).Inc()
		m.apiDuration.WithLabelValues(method, endpoint).Observe(took.Seconds())
		return
	}
	if route == "" || route == "/*" {
		route = unmatchedRoute
	}
	m.portalRequests.WithLabelValues(method, route, statusLabel(status)).Inc()
	m.portalDuration.WithLabelValues(method, route).Observe(took.Seconds())
}

// verifyStarted returns the time a key check starts, or the zero time when
// metrics are off, so that an unobserved check reads no clock.
func (m *metrics) verifyStarted() time.Time {
	if m == nil {
		return time.Time{}
	}
	return time.Now()
}

// keyVerified counts the outcome of one key check that started at start.
func (m *metrics) keyVerified(start time.Time, v verification) {
	if m == nil {
		return
	}
	if !start.IsZero() {
		m.verifyDuration.Observe(time.Since(start).Seconds())
	}
	m.verified[v].Inc()
}

// loginAttempted counts one sign-in attempt.
func (m *metrics) loginAttempted(r loginResult) {
	if m != nil {
		m.logins[r].Inc()
	}
}

// expirySwept counts one run of the expiry sweep.
func (m *metrics) expirySwept(expired int, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.sweepsFailed.Inc()
		return
	}
	m.sweepsOK.Inc()
	m.keysExpired.Add(float64(expired))
}

// delivered counts one delivery attempt of an outbox message that took took and ended with err.
func (m *metrics) delivered(err error, took time.Duration) {
	if m == nil {
		return
	}
	switch {
	case err == nil:
		m.deliveriesSent.Inc()
	case errors.Is(err, keyport.ErrNoMailServer):
		m.deliveriesHeld.Inc()
	default:
		m.deliveriesFailed.Inc()
	}
	m.deliveryDuration.Observe(took.Seconds())
}

// timedUsage is the database as the usage recorder's sink, timing each flush.
type timedUsage struct {
	db *store.DB
	m  *metrics
}

// RecordUsage writes a batch through the store and observes how long it took and whether it failed.
func (t timedUsage) RecordUsage(ctx context.Context, uses []keyport.KeyUse) error {
	start := time.Now()
	err := t.db.RecordUsage(ctx, uses)
	t.m.usageFlushDuration.Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, context.Canceled) {
		t.m.usageFlushFailures.Inc()
	}
	return err
}

// databaseCollector reads the connection pool and the sessions table at
// scrape time. A count the database fails to give is left out of the scrape.
type databaseCollector struct {
	db       *store.DB
	sessions *store.SessionStore
}

var (
	poolOpen       = prometheus.NewDesc("keyport_db_connections_open", "Connections the pool holds, in use or idle.", nil, nil)
	poolInUse      = prometheus.NewDesc("keyport_db_connections_in_use", "Connections running a statement or transaction.", nil, nil)
	poolIdle       = prometheus.NewDesc("keyport_db_connections_idle", "Idle connections in the pool.", nil, nil)
	poolMax        = prometheus.NewDesc("keyport_db_connections_max", "Most connections the pool may open.", nil, nil)
	poolWaits      = prometheus.NewDesc("keyport_db_connection_waits_total", "Times a query waited for a free connection.", nil, nil)
	poolWaited     = prometheus.NewDesc("keyport_db_connection_wait_seconds_total", "Time spent waiting for a free connection.", nil, nil)
	poolClosedIdle = prometheus.NewDesc("keyport_db_connections_closed_idle_total", "Connections closed for being idle too long or too many.", nil, nil)
	sessionsActive = prometheus.NewDesc("keyport_sessions_active",
		"Signed-in sessions of every user within their lifetime and idle timeout, in the shared database.", nil, nil)
	outboxMessages = prometheus.NewDesc("keyport_outbox_messages",
		"Messages in the shared outbox by state: pending, held (no SMTP configured), failed (given up) and sent.", []string{"state"}, nil)
	outboxOldest = prometheus.NewDesc("keyport_outbox_oldest_pending_age_seconds",
		"Age of the oldest message still waiting to be sent, 0 when none waits.", nil, nil)
)

// Describe sends the descriptions of the database metrics.
func (databaseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolMax, poolWaits, poolWaited, poolClosedIdle, sessionsActive,
		outboxMessages, outboxOldest} {
		ch <- d
	}
}

// Collect sends the pool's statistics and the active sessions as they are now.
func (d databaseCollector) Collect(ch chan<- prometheus.Metric) {
	st := d.db.PoolStats()
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(st.OpenConnections))
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(st.InUse))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(st.Idle))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(st.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(st.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, st.WaitDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(poolClosedIdle, prometheus.CounterValue, float64(st.MaxIdleClosed+st.MaxIdleTimeClosed))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := d.sessions.CountAllActive(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(sessionsActive, prometheus.GaugeValue, float64(n))
	}
	if counts, err := d.db.OutboxCounts(ctx); err == nil {
		for _, state := range keyport.OutboxStates {
			ch <- prometheus.MustNewConstMetric(outboxMessages, prometheus.GaugeValue, float64(counts[state]), string(state))
		}
	}
	if oldest, err := d.db.OldestPendingMessage(ctx); err == nil {
		age := 0.0
		if !oldest.IsZero() {
			age = float64(max(0, d.db.Now().Unix()-oldest.Unix()))
		}
		ch <- prometheus.MustNewConstMetric(outboxOldest, prometheus.GaugeValue, age)
	}
}

// factory registers each metric it makes in one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// counterFunc registers a counter read at scrape time.
func (f factory) counterFunc(name, help string, read func() float64) {
	f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

// counterFuncs registers one counter read at scrape time per value of label.
func (f factory) counterFuncs(name, help, label string, reads map[string]func() float64) {
	for value, read := range reads {
		f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help,
			ConstLabels: prometheus.Labels{label: value}}, read))
	}
}

// gaugeFunc registers a gauge read at scrape time.
func (f factory) gaugeFunc(name, help string, read func() float64) {
	f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// gaugeFuncs registers one gauge read at scrape time per value of label.
func (f factory) gaugeFuncs(name, help, label string, reads map[string]func() float64) {
	for value, read := range reads {
		f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help,
			ConstLabels: prometheus.Labels{label: value}}, read))
	}
}
