-- wrk script for bench/snowday.sh: after a run, print one machine-readable
-- line the shell script parses. Errors are every request that did not end
-- in a 2xx/3xx response: non-2xx/3xx statuses, connect/read/write socket
-- errors and timeouts.
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx3xx=%d connect=%d read=%d write=%d timeout=%d errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout,
    e.status + e.connect + e.read + e.write + e.timeout))
end
