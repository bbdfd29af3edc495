// Package sender is a client for the Zabbix sender (trapper) protocol, the
// protocol spoken by zabbix_sender to a Zabbix 6.0 server or proxy on port
// 10051, plus a durable on-disk spool for values that could not be delivered.
//
// # The protocol in brief
//
// Every message in either direction is one frame: the four ASCII bytes "ZBXD",
// one flags byte, two little-endian length fields, then the payload. Flag 0x01
// (protocol) is always set. Flag 0x02 means the payload is zlib-compressed;
// the first length is then the compressed size and the second (otherwise
// reserved, zero) the uncompressed size. Flag 0x04 ("large packet") widens both
// length fields from 32 to 64 bits, giving a 21-byte header instead of 13. Any
// other flag bit, or no flag at all, is refused by the server, which then
// closes the connection without a word.
//
// A request is a JSON object {"request":"sender data","data":[...]} whose data
// members carry host, key and value (always a string here) and, optionally,
// the clock (Unix seconds) and ns of the value. Without a clock the server
// stamps the value with its receive time. The server reads exactly one
// request per TCP connection, answers with one frame and closes, so this
// package opens one connection per packet. It trusts the declared length
// and allocates it up front, and it waits a long time for bytes that were
// announced but never sent; a client must therefore send exactly what it
// declares and guard every exchange with deadlines. This package reads replies
// with the same discipline: exactly the announced length, never "until EOF",
// and never more than a configured maximum.
//
// The reply is {"response":"success","info":"processed: N; failed: N; total: N;
// seconds spent: S"}. "success" only means the packet was understood: values
// for unknown hosts or keys, non-trapper or disabled items, or hosts not yet
// in the server's configuration cache are counted as failed, and the reply
// never says which ones. A "failed" response means the packet itself was
// rejected (invalid JSON, missing data).
//
// # Delivery semantics
//
// [Client.Send] splits the values into packets of [Options.BatchSize] and sends
// them in order, trying each server of [Options.Servers] in turn until one
// answers. A packet counts as answered only when a complete, well-formed reply
// was read; such a packet is never sent again, even when the server reported
// failed values (the error is then a [*PartialError]) or rejected it (a
// [*RejectedError]). When no server answers a packet, Send stops and returns
// a [*DeliveryError] that lists exactly the values that were not answered, so
// that they can be stored in a [Spool] and replayed later. A value sent twice
// with the same clock and ns is ignored by the server as a duplicate, which
// makes replaying after an ambiguous failure safe for stamped values.
//
// Values are sanitized before sending: bytes that are not valid UTF-8 are
// replaced by U+FFFD (or refused, see [Options.StrictUTF8]) and values longer
// than [MaxValueBytes] are cut at a rune boundary.
//
// # Proxy groups (Zabbix 7.0)
//
// A 7.0 server or proxy that receives values for a host monitored by a proxy
// group answers "failed" with a redirect member naming the proxy that
// monitors the host now (or, from a proxy that no longer does, a reset).
// [Client] follows a redirect once, as Zabbix's own sender does, remembers it
// for the packet's host (the first item's host) so that the next packets go
// straight there, and forgets it on a reset or when that proxy stops
// answering. A redirect answered by another redirect is a [*DeliveryError].
//
// # Encryption
//
// Certificate-based TLS is supported through [Options.TLS] and the
// [TLSConfig] helper, which also implements the server certificate issuer and
// subject checks of zabbix_sender. Pre-shared-key (PSK) encryption cannot be
// done with Go's crypto/tls, which does not offer the TLS-PSK cipher suites
// Zabbix uses. For PSK, write the values with [WriteSenderInput] and hand the
// file to the official binary:
//
//	zabbix_sender -z server -T -N -i values.txt --tls-connect psk \
//	    --tls-psk-identity ID --tls-psk-file key.psk
//
// # Spool
//
// [Spool] (in this package, because it stores [Item] values and reacts to
// [*DeliveryError]) keeps undelivered values in append-only segment files in
// one directory per destination, each record framed by its length and a
// CRC-32C checksum and synced to disk before Append returns. [Spool.Replay]
// sends them back oldest first and records its progress in a checkpoint file
// that is replaced atomically. [SpoolingSender] combines a [Client] and a
// [Spool].
package sender
