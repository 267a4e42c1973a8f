package web

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"keyport"
	"keyport/web/mailtest"
)

// BenchmarkMessageDelivery measures how long a message takes from the commit
// of its change (an invitation) to the SMTP server accepting it, with the
// sender woken by the commit. It reports the p50 and p99 of that latency.
func BenchmarkMessageDelivery(b *testing.B) {
	app := newTestApp(b)
	mails := mailtest.Start(b)
	mailer, err := NewSMTPMailer(mails.URL(), "keys@keyport.test")
	if err != nil {
		b.Fatal(err)
	}
	app.withMailer(mailer)
	app.runSender(time.Hour)
	res := app.signupMerchant("Acme", "owner@acme.test")
	actor := keyport.Actor{UserID: res.Owner.ID, Label: "owner@acme.test"}
	ctx := context.Background()
	var latencies []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		email := fmt.Sprintf("invitee-%d@acme.test", i)
		if _, _, err := app.db.CreateInvitation(ctx, nil, actor, res.Merchant.ID, keyport.NewInvitation{Email: email, Role: keyport.RoleDeveloper}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		got := mails.WaitFor(email, "invited you")
		latencies = append(latencies, got.At.Sub(committed))
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
