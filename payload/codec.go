// Package payload encrypts everything the service hands to Temporal. A concern's workflow
// carries the raise (the adult's name, prison number, date of birth, what happened) in its
// input and its Updates; Temporal stores those in its own database and shows them in its UI.
// With this codec they are stored sealed with AES-256-GCM, and only processes holding the key
// (the service's api and worker) can read them. Search attributes are not payloads and stay in
// clear: they never hold personal data (workflows.upsertSearchAttributes).
package payload

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// encoding marks a sealed payload. Payloads without it (written before encryption was
	// turned on) are passed through unchanged, so old histories still replay.
	encoding      = "binary/safeguard-aes256gcm"
	metaEncoding  = "encoding"
	metaKeyID     = "safeguard-key-id"
	KeySize       = 32
	nonceSize     = 12
	keyFilePerm   = 0o600
	keyFileName   = "payload.key"
	minSealedSize = nonceSize + 16 // nonce and GCM tag
)

// Codec seals and opens payloads with one key. It implements converter.PayloadCodec.
type Codec struct {
	aead  cipher.AEAD
	keyID string
}

// NewCodec makes a codec from a 32-byte key.
func NewCodec(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("payload key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The key ID names the key without revealing it, so a payload sealed under another key is
	// reported as such rather than as corrupt.
	sum := sha256.Sum256(append([]byte("safeguard payload key id\x00"), key...))
	return &Codec{aead: aead, keyID: hex.EncodeToString(sum[:8])}, nil
}

// Encode seals each payload: the whole payload (its metadata too, which names the original
// encoding) is marshalled and encrypted, with the key ID as additional data.
func (c *Codec) Encode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, nonceSize, nonceSize+len(plain)+c.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{metaEncoding: []byte(encoding), metaKeyID: []byte(c.keyID)},
			Data:     c.aead.Seal(nonce, nonce, plain, []byte(c.keyID)),
		}
	}
	return out, nil
}

// ErrWrongKey means a payload was sealed under a key this process does not hold.
var ErrWrongKey = errors.New("payload sealed under another key: every api and worker process needs the same SAFEGUARD_PAYLOAD_KEY")

// Decode opens sealed payloads and passes others through.
func (c *Codec) Decode(in []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(in))
	for i, p := range in {
		if string(p.GetMetadata()[metaEncoding]) != encoding {
			out[i] = p
			continue
		}
		if id := string(p.GetMetadata()[metaKeyID]); id != c.keyID {
			return nil, ErrWrongKey
		}
		if len(p.GetData()) < minSealedSize {
			return nil, errors.New("sealed payload is truncated")
		}
		nonce, sealed := p.Data[:nonceSize], p.Data[nonceSize:]
		plain, err := c.aead.Open(nil, nonce, sealed, []byte(c.keyID))
		if err != nil {
			return nil, errors.New("sealed payload does not open: it was altered or the key is wrong")
		}
		var q commonpb.Payload
		if err := proto.Unmarshal(plain, &q); err != nil {
			return nil, fmt.Errorf("sealed payload: %w", err)
		}
		out[i] = &q
	}
	return out, nil
}

// DataConverter is Temporal's default converter with every payload sealed by c.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter also seals failure messages and stack traces: an error can quote input.
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          c.DataConverter(),
		EncodeCommonAttributes: true,
	})
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("must be %d bytes of base64 (e.g. from `openssl rand -base64 32`), not %d bytes", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("must be base64 (e.g. from `openssl rand -base64 32`)")
}

// KeyFromDataDir returns the key kept in dir, creating it on first use. The embedded default
// uses it: one process holds both ends, so the key never needs to leave the data directory.
func KeyFromDataDir(dir string) ([]byte, error) {
	path := filepath.Join(dir, keyFileName)
	if b, err := os.ReadFile(path); err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, keyFilePerm)
	if errors.Is(err, os.ErrExist) {
		return KeyFromDataDir(dir)
	} else if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}
