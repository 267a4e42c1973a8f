package web

import (
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// csvFlushRows is how many rows a CSV export writes between flushes, so a
// long export reaches the client while it is read.
const csvFlushRows = 500

// streamCSV answers with a CSV attachment named filename: the header row,
// then every record rows writes through its write function, each cell
// defused by csvCell. The status is sent before the first row, so an error
// after it can only cut the file short: it is logged, not answered.
func (s *Server) streamCSV(c echo.Context, filename string, header []string, rows func(write func(record []string) error) error) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	written := 0
	write := func(record []string) error {
		for i := range record {
			record[i] = csvCell(record[i])
		}
		if err := w.Write(record); err != nil {
			return err
		}
		if written++; written%csvFlushRows == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	}
	err := w.Write(header)
	if err == nil {
		err = rows(write)
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err != nil {
		s.log.Error("CSV export stopped", "request_id", c.Get(ctxRequestID), "file", filename, "err", err)
	}
	return nil
}

// csvCell makes a value safe to open in a spreadsheet: a cell that starts with
// a character spreadsheets read as a formula (= + - @, tab or carriage return)
// gets a leading apostrophe, so it is shown as text and never evaluated.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// fileNamePart turns a name into letters, digits and hyphens for a file
// name: "Acme EU (test)" becomes "acme-eu-test". It is empty when the name
// has no letter or digit of the ASCII range.
func fileNamePart(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			hyphen = false
		} else {
			hyphen = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}
