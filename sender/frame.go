package sender

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Frame flag bits of the Zabbix protocol header.
const (
	// FlagProtocol marks a Zabbix protocol frame; it is always set.
	FlagProtocol byte = 0x01
	// FlagZlib marks a zlib-compressed payload; the reserved length field
	// then holds the uncompressed size.
	FlagZlib byte = 0x02
	// FlagLarge marks a large packet whose two length fields are 64 bits wide.
	FlagLarge byte = 0x04
)

const (
	// HeaderSize is the size of a standard frame header: magic, flags and two
	// 32-bit lengths.
	HeaderSize = 13
	// LargeHeaderSize is the size of a large-packet header: magic, flags and
	// two 64-bit lengths.
	LargeHeaderSize = 21
)

var magic = [4]byte{'Z', 'B', 'X', 'D'}

// Errors returned by ReadFrame; they are wrapped with details, so compare them
// with errors.Is.
var (
	// ErrBadMagic means the data does not start with "ZBXD".
	ErrBadMagic = errors.New("not a Zabbix frame (bad magic)")
	// ErrBadFlags means the flags byte holds unknown bits or lacks FlagProtocol.
	ErrBadFlags = errors.New("unsupported frame flags")
	// ErrFrameTooLarge means the announced (or uncompressed) size exceeds the
	// reader's limit; nothing of that size was allocated.
	ErrFrameTooLarge = errors.New("frame larger than allowed")
	// ErrBadLength means the header's length fields are inconsistent.
	ErrBadLength = errors.New("inconsistent frame lengths")
	// ErrBadCompression means a compressed payload could not be inflated to
	// the announced size.
	ErrBadCompression = errors.New("bad zlib payload")
)

// EncodeFrame returns payload framed for the Zabbix protocol, compressed with
// zlib when compress is true. The large-packet header is used only when a
// length does not fit in 32 bits.
func EncodeFrame(payload []byte, compress bool) ([]byte, error) {
	flags := FlagProtocol
	body := payload
	var reserved uint64
	if compress {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		if _, err := zw.Write(payload); err != nil {
			return nil, fmt.Errorf("compress frame: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("compress frame: %w", err)
		}
		body = buf.Bytes()
		reserved = uint64(len(payload))
		flags |= FlagZlib
	}
	size := uint64(len(body))
	if size > math.MaxUint32 || reserved > math.MaxUint32 {
		flags |= FlagLarge
		out := make([]byte, LargeHeaderSize, LargeHeaderSize+len(body))
		copy(out, magic[:])
		out[4] = flags
		binary.LittleEndian.PutUint64(out[5:], size)
		binary.LittleEndian.PutUint64(out[13:], reserved)
		return append(out, body...), nil
	}
	out := make([]byte, HeaderSize, HeaderSize+len(body))
	copy(out, magic[:])
	out[4] = flags
	binary.LittleEndian.PutUint32(out[5:], uint32(size))
	binary.LittleEndian.PutUint32(out[9:], uint32(reserved))
	return append(out, body...), nil
}

// ReadFrame reads one frame from r and returns its (decompressed) payload. It
// reads exactly the announced number of bytes, never waiting for EOF, and
// refuses frames whose announced or uncompressed size exceeds maxSize (a
// maxSize <= 0 means no limit beyond what fits in memory, which callers
// reading from the network should avoid).
func ReadFrame(r io.Reader, maxSize int64) ([]byte, error) {
	var hdr [LargeHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:5]); err != nil {
		// A bare io.EOF here means the peer closed without sending anything.
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	if !bytes.Equal(hdr[:4], magic[:]) {
		return nil, fmt.Errorf("read frame: %w: % x", ErrBadMagic, hdr[:4])
	}
	flags := hdr[4]
	if flags&FlagProtocol == 0 || flags&^(FlagProtocol|FlagZlib|FlagLarge) != 0 {
		return nil, fmt.Errorf("read frame: %w: 0x%02x", ErrBadFlags, flags)
	}
	var size, reserved uint64
	if flags&FlagLarge != 0 {
		if _, err := io.ReadFull(r, hdr[5:LargeHeaderSize]); err != nil {
			return nil, fmt.Errorf("read frame header: %w", noEOF(err))
		}
		size = binary.LittleEndian.Uint64(hdr[5:])
		reserved = binary.LittleEndian.Uint64(hdr[13:])
	} else {
		if _, err := io.ReadFull(r, hdr[5:HeaderSize]); err != nil {
			return nil, fmt.Errorf("read frame header: %w", noEOF(err))
		}
		size = uint64(binary.LittleEndian.Uint32(hdr[5:]))
		reserved = uint64(binary.LittleEndian.Uint32(hdr[9:]))
	}
	limit := uint64(math.MaxInt32) // keep allocations sane even without a limit
	if maxSize > 0 {
		limit = uint64(maxSize)
	}
	if size > limit {
		return nil, fmt.Errorf("read frame: %w: %d bytes announced, limit %d", ErrFrameTooLarge, size, limit)
	}
	compressed := flags&FlagZlib != 0
	if compressed {
		if reserved > limit {
			return nil, fmt.Errorf("read frame: %w: %d bytes uncompressed, limit %d", ErrFrameTooLarge, reserved, limit)
		}
	} else if reserved != 0 {
		return nil, fmt.Errorf("read frame: %w: reserved field %d on an uncompressed frame", ErrBadLength, reserved)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read frame body (%d bytes announced): %w", size, noEOF(err))
	}
	if !compressed {
		return body, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("read frame: %w: %v", ErrBadCompression, err)
	}
	out := make([]byte, reserved)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, fmt.Errorf("read frame: %w: inflating %d bytes: %v", ErrBadCompression, reserved, err)
	}
	// The stream must end exactly here, with a valid checksum.
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || err != io.EOF {
		if n != 0 {
			return nil, fmt.Errorf("read frame: %w: more than the announced %d bytes", ErrBadCompression, reserved)
		}
		return nil, fmt.Errorf("read frame: %w: %v", ErrBadCompression, err)
	}
	return out, nil
}

// noEOF turns a bare io.EOF after a partial read into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
