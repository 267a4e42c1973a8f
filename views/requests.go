package views

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"keyport"
	"keyport/store"
)

// QueueView is the approval queue page's data.
type QueueView struct {
	Requests store.Page[keyport.RequestWithActivity]
	// Total counts the matching requests up to QueueCountLimit.
	Total  int
	Filter string
	Now    time.Time
}

// TotalLabel is the number of matching requests for people: "51 requests", or "1000+ requests" past the limit.
func (q QueueView) TotalLabel() string {
	if q.Total >= QueueCountLimit {
		return strconv.Itoa(QueueCountLimit) + "+ requests"
	}
	return plural(q.Total, "request")
}

// PageURL links to the page req of the queue with the same filter.
func (q QueueView) PageURL(req store.PageRequest) string {
	v := url.Values{}
	if q.Filter != "open" {
		v.Set("state", q.Filter)
	}
	if query := DefaultPageParams.Link(v, req); query != "" {
		return "/admin/requests?" + query
	}
	return "/admin/requests"
}

// RequestView is one request's page in the approval queue.
type RequestView struct {
	Request keyport.RequestWithActivity
	Now     time.Time
	CSRF    string
	Form    Form
}

// Base is the request's URL.
func (r RequestView) Base() string { return fmt.Sprintf("/admin/requests/%d", r.Request.ID) }

// Age says how long a request has waited, for people: "3 days".
func Age(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}
