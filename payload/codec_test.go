package payload

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func newKey(t *testing.T) []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

type raise struct {
	Name         string `json:"name"`
	PrisonNumber string `json:"prison_number"`
}

func TestSealedPayloadsHoldNoPlaintextAndRoundTrip(t *testing.T) {
	c, err := NewCodec(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	dc := c.DataConverter()
	in := raise{Name: "Jonathan Testperson", PrisonNumber: "A1234BC"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(p)
	for _, secret := range []string{"Jonathan", "A1234BC", "json/plain"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("sealed payload contains %q", secret)
		}
	}
	var out raise
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip = %+v; want %+v", out, in)
	}
	// Sealing twice gives different bytes: the nonce is fresh each time.
	p2, _ := dc.ToPayload(in)
	if bytes.Equal(p.Data, p2.Data) {
		t.Error("two seals of the same value are identical")
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c, _ := NewCodec(newKey(t))
	plain, err := converter.GetDefaultDataConverter().ToPayload(raise{Name: "old history"})
	if err != nil {
		t.Fatal(err)
	}
	var out raise
	if err := c.DataConverter().FromPayload(plain, &out); err != nil || out.Name != "old history" {
		t.Fatalf("a payload written before encryption does not read back: %+v %v", out, err)
	}
}

func TestAlteredOrForeignPayloadsAreRefused(t *testing.T) {
	c, _ := NewCodec(newKey(t))
	other, _ := NewCodec(newKey(t))
	p, _ := c.DataConverter().ToPayload(raise{Name: "x"})

	if _, err := other.Decode([]*commonpb.Payload{p}); err != ErrWrongKey {
		t.Errorf("decode under another key = %v; want ErrWrongKey", err)
	}
	flipped := proto.Clone(p).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("decode of an altered payload = %v; want refused", err)
	}
	cut := proto.Clone(p).(*commonpb.Payload)
	cut.Data = cut.Data[:5]
	if _, err := c.Decode([]*commonpb.Payload{cut}); err == nil {
		t.Error("decode of a truncated payload succeeded")
	}
	// Someone who swaps the key ID label cannot make another key's payload open either.
	relabelled := proto.Clone(p).(*commonpb.Payload)
	relabelled.Metadata[metaKeyID] = []byte(other.keyID)
	if _, err := other.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Error("a relabelled payload opened under the wrong key")
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", true},
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", true},
		{"  MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", true},
		{"c2hvcnQ=", false},
		{"not base64!", false},
		{"", false},
	} {
		_, err := ParseKey(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q) = %v; want ok %v", tc.in, err, tc.ok)
		}
	}
}

func TestKeyFromDataDirIsMadeOnceAndKeptPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := KeyFromDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := KeyFromDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) || len(k1) != KeySize {
		t.Fatal("the second start read a different key")
	}
	st, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != keyFilePerm {
		t.Errorf("key file mode %v; want %v", st.Mode().Perm(), os.FileMode(keyFilePerm))
	}
}
