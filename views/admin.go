package views

import (
	"time"

	"keyport"
)

// MerchantsView is the admins' list of merchants.
type MerchantsView struct {
	Merchants []keyport.MerchantSummary
	Now       time.Time
	CSRF      string
}

// MerchantUsersView is the admins' list of one merchant's users.
type MerchantUsersView struct {
	MerchantID   int64
	MerchantName string
	Users        []UserSessions
	CSRF         string
}

// UserSessions is a user with the number of their active sessions.
type UserSessions struct {
	User     keyport.User
	Sessions int
}
