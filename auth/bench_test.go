package auth

import "testing"

// BenchmarkHashPassword measures one argon2id hash at DefaultParams: the
// cost of a sign-in.
func BenchmarkHashPassword(b *testing.B) {
	for range b.N {
		if _, err := HashPassword("gritters out at four", DefaultParams()); err != nil {
			b.Fatal(err)
		}
	}
}
