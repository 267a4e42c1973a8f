package web

import (
	"bytes"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"

	"keyport"
)

// leakReportJSON is one report as POST /v1/leaks reads it: the fields of
// GitHub's secret scanning partner program ("type" and "source" are
// accepted and not used).
type leakReportJSON struct {
	Token  string `json:"token" minLength:"1" maxLength:"200" doc:"The secret found in public"`
	Type   string `json:"type" openapi:"optional" doc:"What the reporter calls the secret (not used)"`
	URL    string `json:"url" openapi:"optional" maxLength:"2000" doc:"Where it was found"`
	Source string `json:"source" openapi:"optional" doc:"Where the reporter looked (not used)"`
}

// leakReceived is the one answer of a leak report, whatever it matched.
var leakReceived = map[string]string{"status": "received"}

// reportLeaks serves POST /v1/leaks, without authentication: a token found in
// public and where ({"token", "url"}), or a list of them. Every secret key
// among them that verifies is revoked at once (or only reported, as the
// platform chooses), and the answer is 202 whether or not any matched.
func (s *Server) reportLeaks(c echo.Context) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var list []leakReportJSON
	if trimmed := bytes.TrimSpace(body); trimmed[0] == '[' {
		err = jsonv2.Unmarshal(body, &list, jsonv2.RejectUnknownMembers(true))
	} else {
		var one leakReportJSON
		err = jsonv2.Unmarshal(body, &one, jsonv2.RejectUnknownMembers(true))
		list = []leakReportJSON{one}
	}
	if err != nil {
		return jsonInputError(err)
	}
	reports := make([]keyport.LeakReport, len(list))
	for i, r := range list {
		reports[i] = keyport.LeakReport{Token: r.Token, URL: r.URL}
	}
	if err := keyport.CheckLeakReports(reports); err != nil {
		return err
	}
	wait, err := s.db.ReportLeaks(c.Request().Context(), s.leakThrottle, c.RealIP(), reports)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &rateLimitedError{retryAfter: wait}
	}
	return c.JSON(http.StatusAccepted, leakReceived)
}
