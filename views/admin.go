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
