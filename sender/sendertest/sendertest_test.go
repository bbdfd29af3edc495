package sendertest

import (
	"encoding/binary"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/moodle-zabbix/moodle-zabbix/sender"
)

func exchange(t *testing.T, addr string, frame []byte) ([]byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	return sender.ReadFrame(conn, 1<<20)
}

func TestServerDecodesAllFrameKinds(t *testing.T) {
	s := NewServer(func(r Request) Reply { return Reply{Failed: 1} })
	defer s.Close()
	req := []byte(`{"request":"sender data","data":[{"host":"h","key":"k","value":"1","clock":5,"ns":6},{"host":"h","key":"k2","value":"2"}],"clock":9,"ns":1}`)
	plain, _ := sender.EncodeFrame(req, false)
	zl, _ := sender.EncodeFrame(req, true)
	large := []byte("ZBXD\x05")
	large = binary.LittleEndian.AppendUint64(large, uint64(len(req)))
	large = binary.LittleEndian.AppendUint64(large, 0)
	large = append(large, req...)
	for _, frame := range [][]byte{plain, zl, large} {
		reply, err := exchange(t, s.Addr, frame)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sender.ParseReply(reply)
		if err != nil || res != (sender.Result{Processed: 1, Failed: 1, Total: 2, Spent: 42 * time.Microsecond}) {
			t.Fatalf("reply %s: %+v %v", reply, res, err)
		}
	}
	want := []sender.Item{{Host: "h", Key: "k", Value: "1", Clock: 5, NS: 6}, {Host: "h", Key: "k2", Value: "2"}}
	reqs := s.Requests()
	if len(reqs) != 3 || !reflect.DeepEqual(reqs[1].Data, want) || reqs[1].Clock != 9 || !reqs[1].Compressed() || reqs[2].Flags != 0x05 {
		t.Fatalf("requests %+v", reqs)
	}
	if len(s.Items()) != 6 {
		t.Fatalf("%d items recorded", len(s.Items()))
	}
}

func TestServerRejectsBadJSONAndCloses(t *testing.T) {
	s := NewServer(nil)
	defer s.Close()
	frame, _ := sender.EncodeFrame([]byte(`{"request":`), false)
	reply, err := exchange(t, s.Addr, frame)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.ParseReply(reply); err == nil {
		t.Fatalf("bad JSON answered %s", reply)
	}
	if len(s.Errors()) != 1 {
		t.Fatalf("errors %v", s.Errors())
	}
}

func TestServerCloseWithHangingClientsAndConcurrency(t *testing.T) {
	s := NewServer(func(r Request) Reply {
		if r.Data[0].Key == "hang" {
			return Reply{Hang: true}
		}
		return Reply{}
	})
	hang, _ := sender.EncodeFrame([]byte(`{"request":"sender data","data":[{"host":"h","key":"hang","value":"1"}]}`), false)
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(hang)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			frame, _ := sender.EncodeFrame([]byte(`{"request":"sender data","data":[{"host":"h","key":"k","value":"1"}]}`), false)
			if _, err := exchange(t, s.Addr, frame); err != nil {
				t.Error(err)
			}
			_ = s.Items()
		})
	}
	wg.Wait()
	// Wait until the hanging request is in, then Close must return.
	for len(s.Requests()) < 9 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if len(s.Items()) != 9 {
		t.Fatalf("%d items", len(s.Items()))
	}
}
