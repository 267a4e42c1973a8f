package store

import "keyport"

// keyset is the SQL that reads a list sorted by (keyCol, idCol) beyond the
// cursor c, nearest first: the condition (empty or starting with " AND ") and
// its arguments, and the ORDER BY clause. keyCol is empty for lists sorted by
// id alone. Indexes that end with (keyCol, id) serve both directions.
func keyset(keyCol, idCol string, c keyport.Cursor, below bool) (cond string, args []any, order string) {
	op, dir := ">", " ASC"
	if below {
		op, dir = "<", " DESC"
	}
	if keyCol == "" {
		order = " ORDER BY " + idCol + dir
		if !c.IsZero() {
			cond, args = " AND "+idCol+" "+op+" ?", []any{c.ID}
		}
		return cond, args, order
	}
	order = " ORDER BY " + keyCol + dir + ", " + idCol + dir
	if !c.IsZero() {
		cond, args = " AND ("+keyCol+", "+idCol+") "+op+" (?, ?)", []any{c.Key, c.ID}
	}
	return cond, args, order
}
