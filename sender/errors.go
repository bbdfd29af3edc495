package sender

import (
	"fmt"
	"strconv"
)

// PartialError reports that every packet was answered but the server
// counted some values as failed (unknown host or key, item not of type
// trapper, disabled item, host not yet in the configuration cache). The
// values were delivered and must not be resent.
type PartialError struct {
	// Result is the total over all answered packets.
	Result Result
}

// Error describes the failure counts.
func (e *PartialError) Error() string {
	return fmt.Sprintf("sender: delivered but %d of %d values failed on the server", e.Result.Failed, e.Result.Total)
}

// RejectedError reports a packet the server answered with response
// "failed": it understood the frame but refused its content. The packet was
// answered and is not resent.
type RejectedError struct {
	// Server is the address that answered.
	Server string
	// Info is the server's explanation.
	Info string
	// Items is the number of values in the rejected packet.
	Items int
}

// Error describes the rejection.
func (e *RejectedError) Error() string {
	where := ""
	if e.Server != "" {
		where = " " + e.Server
	}
	return fmt.Sprintf("sender: server%s rejected a packet of %d values: %s", where, e.Items, e.Info)
}

// DeliveryError reports values that no server answered: connections failed,
// timed out, were closed without a reply, or the reply was unusable. The
// values in Undelivered may be stored and sent again later.
type DeliveryError struct {
	// Server is the last server tried.
	Server string
	// Err holds the failure of every server tried.
	Err error
	// Undelivered lists exactly the values that were not answered, in order.
	Undelivered []Item
}

// Error describes what could not be delivered and why.
func (e *DeliveryError) Error() string {
	return "sender: could not deliver " + strconv.Itoa(len(e.Undelivered)) + " values (last server " + e.Server + "): " + errString(e.Err)
}

// Unwrap returns the underlying failure.
func (e *DeliveryError) Unwrap() error { return e.Err }

// ValueError reports an item refused before sending because a field is not
// valid UTF-8 (only with Options.StrictUTF8) or cannot be written.
type ValueError struct {
	// Host and Key identify the item.
	Host, Key string
	// Field names the offending field: "host", "key" or "value".
	Field string
	// Err says what is wrong.
	Err error
}

// Error names the item and the problem.
func (e *ValueError) Error() string {
	return fmt.Sprintf("sender: item %q on host %q: %s: %v", e.Key, e.Host, e.Field, e.Err)
}

// Unwrap returns the underlying problem.
func (e *ValueError) Unwrap() error { return e.Err }

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}
