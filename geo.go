package signpost

import "math"

// DistanceKM is the great-circle (haversine) distance between two points,
// accurate to well under 1% at the scale of a council area.
func DistanceKM(a, b Point) float64 {
	const earthRadiusKM = 6371.0
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// LengthKM is the length of a line along the ground.
func LengthKM(line []Point) float64 {
	total := 0.0
	for i := 1; i < len(line); i++ {
		total += DistanceKM(line[i-1], line[i])
	}
	return total
}
