package activities

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's run if any test leaves a goroutine behind (the courier's loop
// and its senders included).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
