package store

import (
	"slices"
	"testing"
)

func TestParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Cursor
	}{
		{"42", Cursor{ID: 42}},
		{" 42 ", Cursor{ID: 42}},
		{"1700000000.42", Cursor{Key: 1700000000, ID: 42}},
		{"-5.42", Cursor{Key: -5, ID: 42}},
		{"", Cursor{}},
		{"0", Cursor{}},
		{"-1", Cursor{}},
		{"abc", Cursor{}},
		{"1.2.3", Cursor{}},
		{"1.", Cursor{}},
		{".1", Cursor{}},
		{"99999999999999999999", Cursor{}},
		{"1e3", Cursor{}},
		{"<script>", Cursor{}},
		{"12\x00", Cursor{}},
	} {
		got := ParseCursor(tc.in)
		if got != tc.want {
			t.Errorf("ParseCursor(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if !got.IsZero() && ParseCursor(got.String()) != got {
			t.Errorf("%+v does not survive String", got)
		}
	}
}

// walk follows Next from the first page to the end, then Prev back to the
// start, and returns the ids of every page seen on the way.
func walk(t *testing.T, rows []int64, perPage int, desc bool) (forward, backward [][]int64) {
	t.Helper()
	fetch := func(c Cursor, below bool, limit int) ([]int64, error) {
		var out []int64
		for _, id := range rows {
			if c.IsZero() || (below && id < c.ID) || (!below && id > c.ID) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		if below {
			slices.Reverse(out)
		}
		return out[:min(limit, len(out))], nil
	}
	cursorOf := func(id int64) Cursor { return Cursor{ID: id} }
	p, err := LoadPage(PageRequest{}, perPage, desc, cursorOf, fetch)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasPrev() {
		t.Fatal("the first page has a previous page")
	}
	forward = append(forward, p.Items)
	for p.HasNext() {
		if p, err = LoadPage(p.Next, perPage, desc, cursorOf, fetch); err != nil {
			t.Fatal(err)
		}
		forward = append(forward, p.Items)
	}
	for p.HasPrev() {
		if p, err = LoadPage(p.Prev, perPage, desc, cursorOf, fetch); err != nil {
			t.Fatal(err)
		}
		backward = append(backward, p.Items)
	}
	return forward, backward
}

func TestLoadPageWalksBothWays(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rows    []int64
		perPage int
		desc    bool
		want    [][]int64
	}{
		{"empty", nil, 2, true, [][]int64{nil}},
		{"one page exactly", []int64{1, 2}, 2, true, [][]int64{{2, 1}}},
		{"descending", []int64{1, 2, 3, 4, 5}, 2, true, [][]int64{{5, 4}, {3, 2}, {1}}},
		{"ascending", []int64{1, 2, 3, 4, 5}, 2, false, [][]int64{{1, 2}, {3, 4}, {5}}},
		{"ascending full pages", []int64{1, 2, 3, 4}, 2, false, [][]int64{{1, 2}, {3, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forward, backward := walk(t, tc.rows, tc.perPage, tc.desc)
			if !slices.EqualFunc(forward, tc.want, slices.Equal) {
				t.Fatalf("forward %v, want %v", forward, tc.want)
			}
			wantBack := slices.Clone(tc.want[:len(tc.want)-1])
			slices.Reverse(wantBack)
			if !slices.EqualFunc(backward, wantBack, slices.Equal) {
				t.Fatalf("backward %v, want %v", backward, wantBack)
			}
		})
	}
}

func TestLoadPageBeyondTheEndLeadsBack(t *testing.T) {
	fetch := func(Cursor, bool, int) ([]int64, error) { return nil, nil }
	p, err := LoadPage(PageRequest{Cursor: Cursor{ID: 3}, Before: true}, 2, true, func(id int64) Cursor { return Cursor{ID: id} }, fetch)
	if err != nil || len(p.Items) != 0 || p.HasNext() || p.Prev != (PageRequest{Cursor: Cursor{ID: 3}}) {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestLoadPageRefusesAnEmptyPageSize(t *testing.T) {
	fetch := func(Cursor, bool, int) ([]int64, error) {
		t.Fatal("fetched rows for a page of no rows")
		return nil, nil
	}
	for _, perPage := range []int{0, -1} {
		if _, err := LoadPage(PageRequest{}, perPage, true, func(id int64) Cursor { return Cursor{ID: id} }, fetch); err == nil {
			t.Errorf("%d rows per page: no error", perPage)
		}
	}
}
