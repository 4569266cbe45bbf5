package signpost_test

import (
	"math"
	"testing"

	"github.com/signpost-uk/signpost"
)

func TestDistanceKM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b signpost.Point
		want float64
	}{
		{signpost.Point{Lon: -1, Lat: 54}, signpost.Point{Lon: -1, Lat: 54}, 0},
		{signpost.Point{Lon: -1, Lat: 54}, signpost.Point{Lon: -1, Lat: 55}, 111.19},
		// London (Charing Cross) to Edinburgh (Waverley), about 534 km.
		{signpost.Point{Lon: -0.1246, Lat: 51.5074}, signpost.Point{Lon: -3.1883, Lat: 55.9533}, 534},
	}
	for _, tt := range tests {
		if got := signpost.DistanceKM(tt.a, tt.b); math.Abs(got-tt.want) > tt.want*0.005+0.01 {
			t.Errorf("DistanceKM(%v, %v) = %.2f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
	line := []signpost.Point{{Lon: -1, Lat: 54}, {Lon: -1, Lat: 54.5}, {Lon: -1, Lat: 55}}
	if got := signpost.LengthKM(line); math.Abs(got-111.19) > 0.5 {
		t.Errorf("LengthKM = %.2f", got)
	}
}
