package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// keyFinderHint refuses a search the key finder cannot run across every merchant.
const keyFinderHint = "Paste a whole key or at least its prefix and the first 4 characters, like sk_live_Ab12."

// keyFinder serves GET /admin/keys, and POST /admin/keys for the form
// without JavaScript: the API team pastes a whole key (looked
// up by its hash), its redacted form, or its prefix and first 4 characters,
// and sees the merchant and API account of every key it matches. Any other
// search is answered 422 with a message next to the field. The answer never
// holds a whole key, which the search box and the results show redacted;
// htmx loads the results without putting the search in the address. Without
// JavaScript the form posts: a whole key is answered at once, any other
// search moves to its address.
func (s *Server) keyFinder(c echo.Context) error {
	v := views.KeyFinderView{Now: s.Now()}
	term := strings.TrimSpace(c.FormValue("q"))
	search, err := keyport.ParseKeySearch(term)
	switch {
	case err != nil:
		v.Error, v.Term = fieldErrors(err)["q"], term
	case search.Kind != keyport.SearchAll && !search.Pinpoints():
		v.Error, v.Term = keyFinderHint, term
	case postedToAddress(c, search):
		return redirect(c, views.KeyFinderSearchURL(search))
	default:
		v.Search, v.Term = search, search.Shown()
		found, err := s.db.FindKeys(c.Request().Context(), search, views.KeyFinderLimit+1)
		if err != nil {
			return err
		}
		if len(found) > views.KeyFinderLimit {
			found, v.More = found[:views.KeyFinderLimit], true
		}
		v.Found = found
	}
	v.CSRF = csrfToken(c)
	status := http.StatusOK
	if v.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	if isHTMX(c) {
		return render(c, status, views.KeyFinderResults(v))
	}
	return render(c, status, views.KeyFinderPage(s.page(c, "Find a key", views.KeyFinderURL), v))
}
