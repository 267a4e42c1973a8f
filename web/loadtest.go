//go:build loadtest

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
)

// The load test (cmd/loadtest) builds the server with -tags loadtest to get
// these routes. They sit under /v1 so that the middleware treats them exactly
// as the API: same headers, no session, no CSRF cookie.
func init() {
	loadTestRoutes = func(s *Server, v1 *echo.Group) {
		v1.GET("/loadtest/couriers", s.loadTestCouriers)
		v1.GET("/loadtest/stats", s.loadTestStats)
	}
}

// loadTestCouriers answers what GET /v1/couriers answers, without the key
// check: the load test compares the two to measure what the check costs.
func (s *Server) loadTestCouriers(c echo.Context) error {
	return s.apiCouriers(c, keyport.VerifiedKey{})
}

// loadTestStatsBody is the answer of GET /v1/loadtest/stats.
type loadTestStatsBody struct {
	// KeyLookups is how many keys the verifier has read from the database.
	KeyLookups int64 `json:"key_lookups"`
}

// loadTestStats reports the server's counters that the load test reads
// before and after each run.
func (s *Server) loadTestStats(c echo.Context) error {
	return c.JSON(http.StatusOK, loadTestStatsBody{KeyLookups: s.db.KeyLookups()})
}
