package argon2

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// cheap keeps the tests quick; the format and comparison do not depend on the cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashIsAPHCStringWithTheOWASPParameters(t *testing.T) {
	h, err := Hash("heron kettle marmalade", Default)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q is not $argon2id$v=19$m=19456,t=2,p=1$salt$hash", h)
	}
	if strings.Contains(h, "heron") {
		t.Fatal("the hash contains the password")
	}
	ok, err := Verify(h, "heron kettle marmalade")
	if err != nil || !ok {
		t.Fatalf("Verify(right password) = %v, %v", ok, err)
	}
}

func TestVerifyRefusesAWrongPassword(t *testing.T) {
	h, _ := Hash("heron kettle marmalade", cheap)
	for _, wrong := range []string{"heron kettle marmaladE", "heron kettle marmalade ", "", "heron kettle"} {
		if ok, err := Verify(h, wrong); ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want false", wrong, ok, err)
		}
	}
}

func TestTheSamePasswordHashesDifferentlyEachTime(t *testing.T) {
	a, _ := Hash("heron kettle marmalade", cheap)
	b, _ := Hash("heron kettle marmalade", cheap)
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyReadsTheParametersFromTheHash(t *testing.T) {
	h, _ := Hash("heron kettle marmalade", cheap)
	if !strings.Contains(h, "$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not carry its parameters", h)
	}
	if ok, _ := Verify(h, "heron kettle marmalade"); !ok {
		t.Fatal("a hash made with other parameters does not verify")
	}
	if !NeedsRehash(h, Default) || NeedsRehash(h, cheap) {
		t.Error("NeedsRehash does not compare parameters")
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	good, _ := Hash("x", cheap)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=4294967295,t=1,p=1$" + parts[4] + "$" + parts[5], // would eat the server's memory
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4],
	} {
		if ok, err := Verify(bad, "x"); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", bad, ok, err)
		}
	}
}
