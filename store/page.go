package store

import (
	"strconv"

	"keyport"
)

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
func keyset(args *sqlArgs, keyCol, idCol string, c keyport.Cursor, below bool) (cond string, order string) {
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
