// Package webcost measures, without a network in the way, what Signpost's
// web layer spends per request on the pages residents open at 7am, next to a
// bare net/http handler writing the same bytes. It exists to explain the
// snow-day load figures (bench/snowday.sh): wrk and the servers share the
// machine's cores, so every microsecond of CPU per request is requests per
// second lost. Each page is served three ways: by Signpost, by a bare handler
// (content type, length, body) and by the bare handler setting every header
// Signpost sends, which isolates what the headers cost. It has only
// benchmarks:
//
//	go test -run '^$' -bench . -benchmem ./bench/webcost
//	go test -run '^$' -bench 'Serve/signpost/home' -cpuprofile /tmp/web.prof ./bench/webcost
package webcost
