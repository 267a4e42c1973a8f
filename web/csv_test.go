package web

import "testing"

func TestCSVCellDefusesFormulas(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ada@acme.test", "ada@acme.test"},
		{"=HYPERLINK(\"http://evil.test\")", "'=HYPERLINK(\"http://evil.test\")"},
		{"+1+2", "'+1+2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{"sk_live_ij30********bvrw", "sk_live_ij30********bvrw"},
	}
	for _, tt := range tests {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFileNamePartKeepsLettersAndDigits(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Default", "default"},
		{"Acme EU (test)", "acme-eu-test"},
		{"  --Zoë's 配送 shop--  ", "zo-s-shop"},
		{`"; filename=evil.exe`, "filename-evil-exe"},
		{"配送", ""},
		{"A0123456789012345678901234567890123456789xyz", "a012345678901234567890123456789012345678"},
	}
	for _, tt := range tests {
		if got := fileNamePart(tt.in); got != tt.want {
			t.Errorf("fileNamePart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
