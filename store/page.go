package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Cursor is the position of one row in a list sorted by a key (a time, for
// instance) and then by id. Lists sorted by id alone leave Key zero. Links
// carry it as "key.id", or just "id" when the key is zero.
type Cursor struct {
	Key int64
	ID  int64
}

// IsZero reports whether c marks no row, which means the first page.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// String is the cursor as links carry it.
func (c Cursor) String() string {
	if c.Key == 0 {
		return strconv.FormatInt(c.ID, 10)
	}
	return strconv.FormatInt(c.Key, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCursor reads a cursor written by String. Anything else, including an
// id that is not positive, is the zero cursor: the first page.
func ParseCursor(s string) Cursor {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 41 {
		return Cursor{}
	}
	keyText, idText, keyed := strings.Cut(s, ".")
	if !keyed {
		keyText, idText = "0", s
	}
	key, err := strconv.ParseInt(keyText, 10, 64)
	if err != nil {
		return Cursor{}
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return Cursor{}
	}
	return Cursor{Key: key, ID: id}
}

// PageRequest asks for one page of a list: the first page (zero cursor), the
// rows that sort before the cursor, or those that sort after it, in the
// ascending order of (key, id) whatever order the list is shown in.
type PageRequest struct {
	Cursor Cursor
	// Before asks for the rows below the cursor; otherwise the rows above it.
	Before bool
}

// Page is one page of a list, in the order it is shown, with the requests of
// the pages on either side.
type Page[T any] struct {
	Items []T
	// Prev and Next ask for the pages shown before and after this one; a zero
	// cursor means there is no such page.
	Prev, Next PageRequest
}

// HasPrev reports whether a page comes before this one.
func (p Page[T]) HasPrev() bool { return !p.Prev.Cursor.IsZero() }

// HasNext reports whether a page comes after this one.
func (p Page[T]) HasNext() bool { return !p.Next.Cursor.IsZero() }

// Fetch reads up to limit rows of a list beyond a cursor, nearest first:
// below it when below is true, above it otherwise. A zero cursor means from
// the very end of the list in that direction.
type Fetch[T any] func(c Cursor, below bool, limit int) ([]T, error)

// LoadPage loads the page req asks for of a list shown in descending (desc)
// or ascending order of (key, id), perPage rows long. It fetches one row more
// than the page holds to learn whether the list goes on. A perPage below 1 is
// an error: such a page would never show a row.
func LoadPage[T any](req PageRequest, perPage int, desc bool, cursorOf func(T) Cursor, fetch Fetch[T]) (Page[T], error) {
	if perPage < 1 {
		return Page[T]{}, fmt.Errorf("load page: %d rows per page", perPage)
	}
	below := desc
	if !req.Cursor.IsZero() {
		below = req.Before
	}
	rows, err := fetch(req.Cursor, below, perPage+1)
	if err != nil {
		return Page[T]{}, err
	}
	more := len(rows) > perPage
	if more {
		rows = rows[:perPage]
	}
	forward := below == desc
	if !forward {
		slices.Reverse(rows)
	}
	p := Page[T]{Items: rows}
	hasPrev, hasNext := !req.Cursor.IsZero(), more
	if !forward {
		hasPrev, hasNext = more, true
	}
	first, last := req.Cursor, req.Cursor
	if len(rows) > 0 {
		first, last = cursorOf(rows[0]), cursorOf(rows[len(rows)-1])
	}
	if hasPrev {
		p.Prev = PageRequest{Cursor: first, Before: !desc}
	}
	if hasNext {
		p.Next = PageRequest{Cursor: last, Before: desc}
	}
	return p, nil
}

// sqlArgs are the arguments of a query built piece by piece; add appends one
// and returns its numbered placeholder, so that pieces never miscount.
type sqlArgs []any

// add appends v and returns its placeholder ($1, $2…).
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// columnValue is one column an UPDATE sets, with its new value.
type columnValue struct {
	column string
	value  any
}

// keyset is the SQL that reads a list sorted by (keyCol, idCol) beyond the
// cursor c, nearest first: the condition (empty or starting with " AND "),
// whose arguments it adds to args, and the ORDER BY clause. keyCol is empty
// for lists sorted by id alone. Indexes that end with (keyCol, id) serve both
// directions.
func keyset(args *sqlArgs, keyCol, idCol string, c Cursor, below bool) (cond string, order string) {
	op, dir := ">", " ASC"
	if below {
		op, dir = "<", " DESC"
	}
	if keyCol == "" {
		order = " ORDER BY " + idCol + dir
		if !c.IsZero() {
			cond = " AND " + idCol + " " + op + " " + args.add(c.ID)
		}
		return cond, order
	}
	order = " ORDER BY " + keyCol + dir + ", " + idCol + dir
	if !c.IsZero() {
		cond = " AND (" + keyCol + ", " + idCol + ") " + op + " (" + args.add(c.Key) + ", " + args.add(c.ID) + ")"
	}
	return cond, order
}
