package keyport

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		password string
		want     string
	}{
		{"", "required"},
		{"elevenchars", "at least 12"},
		{"twelve-chars", ""},
		{strings.Repeat("é", 12), ""},
		{strings.Repeat("a", 128), ""},
		{strings.Repeat("a", 129), "at most 128"},
		{"password1234", "too common"},
		{"PASSWORD1234", "too common"},
		{"qwertyuiop123", "too common"},
		{"1qaz2wsx3edc", "too common"},
		{"QwertyQwerty", "too common"},
		{"sonyericsson", "too common"},
		{"zazachka_lipa", "too common"},
		{"with\x00nul-byte", "not allowed"},
		{"bad-utf8-\xff\xfe-here", "not allowed"},
		{"a-long-unusual-passphrase", ""},
	}
	for _, tc := range cases {
		got := CheckPassword(tc.password)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("CheckPassword(%q) = %q, want %q", tc.password, got, tc.want)
		}
	}
}

// TestCommonPasswordListIsLargeEnough: the list refuses at least the 10,000
// most common breached passwords a user could choose (12 characters or more).
func TestCommonPasswordListIsLargeEnough(t *testing.T) {
	long := 0
	for p := range commonPasswords {
		if len([]rune(p)) >= MinPasswordLength {
			long++
		}
	}
	if long < 10000 {
		t.Fatalf("%d common passwords of %d or more characters, want at least 10,000", long, MinPasswordLength)
	}
}

func TestCheckPasswordRefusesTheUsersOwnDetails(t *testing.T) {
	details := []string{"Jo Anne Smithers", "Acme Parcels Ltd", "jo.smithers@acme-parcels.example"}
	cases := []struct {
		password string
		refused  bool
	}{
		{"jo.smithers@acme-parcels.example", true},
		{"my-JO.SMITHERS@ACME-PARCELS.EXAMPLE!", true},
		{"smithers-rules-2026", true},
		{"ParcelsParcels99", true},
		{"acme-is-my-employer", true},
		{"anne-of-green-gables", true},
		{"jo-and-ltd-are-short", false},
		{"example-dot-com-words", false},
		{"a-long-unusual-passphrase", false},
	}
	for _, tc := range cases {
		got := CheckPassword(tc.password, details...)
		if refused := got != ""; refused != tc.refused || (refused && !strings.Contains(got, "your name, your email")) {
			t.Errorf("CheckPassword(%q) = %q, refused %v", tc.password, got, tc.refused)
		}
	}
	if got := CheckPassword("smithers-rules-2026"); got != "" {
		t.Errorf("without details: %q", got)
	}
}

func TestHashAndVerifyPassword(t *testing.T) {
	hash, err := HashPassword("a-long-unusual-passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use argon2id with 19 MiB and t=2", hash)
	}
	other, _ := HashPassword("a-long-unusual-passphrase")
	if other == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	cases := []struct {
		hash, password string
		ok             bool
		err            error
	}{
		{hash, "a-long-unusual-passphrase", true, nil},
		{hash, "a-long-unusual-passphrasE", false, nil},
		{hash, "", false, nil},
		{"plain", "x", false, ErrBadHash},
		{"$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false, ErrBadHash},
		{"$argon2id$v=19$m=1,t=1,p=1$!!!$AAAA", "x", false, ErrBadHash},
	}
	for _, tc := range cases {
		ok, err := VerifyPassword(tc.hash, tc.password)
		if ok != tc.ok || !errors.Is(err, tc.err) {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v", tc.hash, tc.password, ok, err)
		}
	}
	if err := DefaultPasswordCost.VerifyNoUser("anything"); err != nil {
		t.Fatalf("VerifyNoUser: %v", err)
	}
}

func TestWorkGateRunsSlotsAtOnceQueuesTheNextAndRefusesTheRest(t *testing.T) {
	g := NewWorkGate(1, 1, 200*time.Millisecond)
	release := make(chan struct{})
	running := make(chan struct{})
	first := make(chan error, 1)
	go func() { first <- g.Run(func() { close(running); <-release }) }()
	<-running
	queued := make(chan error, 1)
	ran := false
	go func() { queued <- g.Run(func() { ran = true }) }()
	for g.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := g.Run(func() { t.Error("ran beyond the queue") }); !errors.Is(err, ErrPasswordWorkBusy) {
		t.Fatalf("beyond the queue: %v", err)
	}
	if waited := time.Since(start); waited > 50*time.Millisecond {
		t.Fatalf("the refusal waited %v", waited)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-queued; err != nil || !ran {
		t.Fatalf("the queued work: ran %v, %v", ran, err)
	}

	block := make(chan struct{})
	go func() { _ = g.Run(func() { <-block }) }()
	for len(g.slots) != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := g.Run(func() { t.Error("ran after its wait") }); !errors.Is(err, ErrPasswordWorkBusy) {
		t.Fatalf("after the wait ran out: %v", err)
	}
	close(block)
	if g.waiting.Load() != 0 {
		t.Fatalf("%d still counted as waiting", g.waiting.Load())
	}
}

func TestPasswordCostIsStoredWithTheHash(t *testing.T) {
	cases := []struct {
		cost   PasswordCost
		prefix string
	}{
		{PasswordCost{}, "$argon2id$v=19$m=19456,t=2,p=1$"},
		{DefaultPasswordCost, "$argon2id$v=19$m=19456,t=2,p=1$"},
		{MinimalPasswordCost, "$argon2id$v=19$m=8,t=1,p=1$"},
		{PasswordCost{MemoryKiB: 64, Passes: 3}, "$argon2id$v=19$m=64,t=3,p=1$"},
	}
	for _, tc := range cases {
		hash, err := tc.cost.Hash("a-long-unusual-passphrase")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, tc.prefix) {
			t.Errorf("cost %+v made %q, want prefix %q", tc.cost, hash, tc.prefix)
		}
		for password, want := range map[string]bool{"a-long-unusual-passphrase": true, "a-long-unusual-passphrasE": false} {
			if ok, err := VerifyPassword(hash, password); ok != want || err != nil {
				t.Errorf("cost %+v: VerifyPassword(%q) = %v, %v; want %v", tc.cost, password, ok, err, want)
			}
		}
	}
}

func TestSignupValidate(t *testing.T) {
	good := Signup{MerchantName: "Acme", Name: "Ada", Email: "ada@example.com", Password: "a-long-unusual-passphrase"}
	cases := []struct {
		name   string
		change func(*Signup)
		fields []string
	}{
		{"valid", func(*Signup) {}, nil},
		{"all empty", func(s *Signup) { *s = Signup{} }, []string{"merchant_name", "name", "email", "password"}},
		{"bad email", func(s *Signup) { s.Email = "ada@localhost" }, []string{"email"}},
		{"email with spaces", func(s *Signup) { s.Email = "a da@example.com" }, []string{"email"}},
		{"name too long", func(s *Signup) { s.Name = strings.Repeat("n", 101) }, []string{"name"}},
		{"name with NUL", func(s *Signup) { s.Name = "a\x00b" }, []string{"name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.change(&s)
			s.Normalize()
			err := s.Validate()
			var ve *ValidationError
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.As(err, &ve) || len(ve.Fields) != len(tc.fields) {
				t.Fatalf("err = %v, want fields %v", err, tc.fields)
			}
			for _, f := range tc.fields {
				if ve.Fields[f] == "" {
					t.Errorf("no message for %s", f)
				}
			}
		})
	}
}

func TestTextChecksRefuseControlCharacters(t *testing.T) {
	cases := []struct {
		text      string
		name, use bool
	}{
		{"Acme Parcels", true, true},
		{"Zoë 配送 🚚", true, true},
		{`<script>alert(1)</script>`, true, true},
		{"two\nlines", false, true},
		{"two\r\nlines", false, true},
		{"a\ttab", false, true},
		{"nul\x00byte", false, false},
		{"escape\x1b[31m", false, false},
		{"bell\a", false, false},
		{"delete\x7f", false, false},
		{"c1 control\u0085", false, false},
		{"bad utf-8 \xff\xfe", false, false},
	}
	for _, tc := range cases {
		if got := CheckName(tc.text, "Name") == ""; got != tc.name {
			t.Errorf("CheckName(%q) accepted = %v, want %v", tc.text, got, tc.name)
		}
		if got := CheckKeyName(tc.text) == ""; got != tc.name {
			t.Errorf("CheckKeyName(%q) accepted = %v, want %v", tc.text, got, tc.name)
		}
		if got := CheckText(tc.text, "Reply", 1, 100) == ""; got != tc.use {
			t.Errorf("CheckText(%q) accepted = %v, want %v", tc.text, got, tc.use)
		}
	}
	if msg := CheckName("a\nb", "Company"); msg != "Company contains characters that are not allowed." {
		t.Errorf("message %q", msg)
	}
}
