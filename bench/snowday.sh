#!/usr/bin/env bash
# Snow-day load test (issue 2, section 6): Signpost's demo against nginx
# serving the same bytes as static files, at 7am-peak concurrency, while a
# notice changes every second. See bench/README.md.
#
# Environment (all optional):
#   DURATION=10s        wrk duration per run
#   CONNECTIONS="64 256"
#   THREADS=2           wrk threads
#   POSTCODE="ND1 1BX"  the postcode checked on /area
#   KEEP=1              keep the temporary directory (logs, raw wrk output)
#   REV=abc1234         the revision to print when not run in a git checkout
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"64 256"}
THREADS=${THREADS:-2}
POSTCODE=${POSTCODE:-"ND1 1BX"}
KEEP=${KEEP:-0}

cd "$(dirname "$0")/.."
ROOT=$(pwd)

die() {
	echo "snowday: $*" >&2
	exit 1
}

# Install nothing silently: say what is missing and how to get it.
missing=()
command -v go >/dev/null || missing+=(go)
command -v curl >/dev/null || missing+=(curl)
command -v wrk >/dev/null || missing+=(wrk)
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then missing+=(nginx); fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "snowday: missing: ${missing[*]}" >&2
	echo "snowday: on Debian: apt-get update && apt-get install -y wrk nginx-light curl (and Go 1.26 for go)" >&2
	exit 1
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TMP=$(mktemp -d /tmp/snowday.XXXXXX)
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$KEEP" = 1 ]; then
		echo "snowday: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD...: poll until CMD succeeds, for at most 30 s.
wait_for() {
	local deadline=$((SECONDS + 30))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# free_port prints a TCP port on 127.0.0.1 that nothing answers on.
free_port() {
	local p i
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# field NAME LINE: the value of NAME=value in a line of key=value pairs.
field() {
	local kv
	for kv in $2; do
		if [ "${kv%%=*}" = "$1" ]; then
			echo "${kv#*=}"
			return 0
		fi
	done
	echo "?"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CORES=$(nproc)
echo "snowday: load average before: $LOAD_BEFORE on $CORES cores" >&2

echo "snowday: building signpost and the updater" >&2
go build -o "$TMP/signpost" ./cmd/signpost
go build -o "$TMP/updater" ./bench/updater

# Signpost: the demo council on a fresh database; port 0 lets the kernel
# choose, and serve prints the address it got.
DB="$TMP/signpost.db"
"$TMP/signpost" serve --demo --addr 127.0.0.1:0 --db "$DB" >"$TMP/signpost.out" 2>"$TMP/signpost.log" &
PIDS+=($!)
wait_for grep -q 'http://127.0.0.1:' "$TMP/signpost.out" || die "signpost did not start; see $TMP/signpost.log"
SP=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/signpost.out" | head -1)
SP_PID=${PIDS[-1]}
wait_for curl -sf "$SP/healthz" || die "signpost at $SP is not healthy"

# The three URLs residents open at 7am, and where nginx keeps each copy.
PC_Q=${POSTCODE// /%20}
PATHS=("/" "/area?postcode=$PC_Q" "/feeds/notices.atom")
FILES=("index.html" "area/$PC_Q.html" "feeds/notices.atom")
DOCROOT="$TMP/docroot"
mkdir -p "$DOCROOT/area" "$DOCROOT/feeds"
# nginx workers run as an unprivileged user when started as root: let them
# through the (private) temporary directory to the docroot only.
chmod 711 "$TMP"
for i in "${!PATHS[@]}"; do
	curl -sS --fail -o "$DOCROOT/${FILES[$i]}" "$SP${PATHS[$i]}" || die "fetch $SP${PATHS[$i]}"
done
chmod -R a+rX "$DOCROOT"

# nginx: its own config and paths under $TMP, in the foreground of its own
# background job so cleanup can stop it by pid.
NGPORT=$(free_port) || die "no free port for nginx"
NG="http://127.0.0.1:$NGPORT"
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx.conf" <<EOF
daemon off;
worker_processes $CORES;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 120s;
	keepalive_requests 100000000;
	gzip off;
	client_body_temp_path $TMP/nginx/client;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	types {
		text/html html;
		application/atom+xml atom;
	}
	default_type application/octet-stream;
	charset utf-8;
	charset_types application/atom+xml; # text/html always has one
	server {
		listen 127.0.0.1:$NGPORT;
		root $DOCROOT;
		# The same caching and security headers Signpost sends, so both
		# servers write the same response.
		add_header Cache-Control "public, max-age=30, stale-while-revalidate=30" always;
		add_header Content-Security-Policy "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" always;
		add_header X-Content-Type-Options nosniff always;
		add_header Referrer-Policy strict-origin-when-cross-origin always;
		add_header Permissions-Policy "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()" always;
		add_header X-Frame-Options DENY always;
		add_header Cross-Origin-Opener-Policy same-origin always;
		location = / { try_files /index.html =404; }
		# One saved page per postcode, named by the raw query value.
		location = /area { try_files /area/\$arg_postcode.html =404; }
	}
}
EOF
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx.conf" &
PIDS+=($!)
NG_PID=$!
wait_for curl -sf "$NG/" || die "nginx did not start; see $TMP/nginx/error.log"
for i in "${!PATHS[@]}"; do
	curl -sS --fail -o "$TMP/check" "$NG${PATHS[$i]}" || die "nginx does not serve ${PATHS[$i]}"
	cmp -s "$TMP/check" "$DOCROOT/${FILES[$i]}" || die "nginx serves different bytes for ${PATHS[$i]}"
done

# cpu_ticks PID...: CPU time (user+system, in clock ticks) used so far by
# the processes and their direct children (nginx's workers).
cpu_ticks() {
	local p t=0 kid
	for p in "$@"; do
		for kid in "$p" $(ps -o pid= --ppid "$p"); do
			t=$((t + $(awk '{print $14 + $15}' "/proc/$kid/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

# run_wrk NAME URL CONNS SERVER_PID: load one URL; sets WRK_LINE to the
# result line plus the server's CPU microseconds per request (raw output
# in $TMP/NAME.wrk). Not run in a subshell, so cleanup knows wrk's pid.
# CPU per request is the figure least disturbed by other load on the
# machine: it counts only what the server itself spent.
run_wrk() {
	local t0 t1 req
	t0=$(cpu_ticks "$4")
	wrk -t"$THREADS" -c"$3" -d"$DURATION" --latency -s "$ROOT/bench/report.lua" "$2" >"$TMP/$1.wrk" 2>&1 &
	local pid=$!
	PIDS+=($pid)
	wait "$pid" || die "wrk failed for $2; see $TMP/$1.wrk"
	WRK_LINE=$(grep '^WRK ' "$TMP/$1.wrk") || die "no result from wrk for $2"
	t1=$(cpu_ticks "$4")
	req=$(field requests "$WRK_LINE")
	WRK_LINE="$WRK_LINE cpu_us_per_req=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$req" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')"
}

ROWS=()
for i in "${!PATHS[@]}"; do
	for c in $CONNECTIONS; do
		echo "snowday: ${PATHS[$i]} at $c connections for $DURATION (Signpost, then nginx)" >&2
		# The updater changes a notice every second only while Signpost is
		# under load; it finishes checking its last update after SIGTERM.
		"$TMP/updater" --db "$DB" --base "$SP" >"$TMP/upd-$i-$c.out" 2>"$TMP/upd-$i-$c.err" &
		upid=$!
		PIDS+=($upid)
		run_wrk "sp-$i-$c" "$SP${PATHS[$i]}" "$c" "$SP_PID"
		sp=$WRK_LINE
		kill -TERM "$upid"
		wait "$upid" || die "updater failed; see $TMP/upd-$i-$c.err"
		upd=$(grep '^UPDATER ' "$TMP/upd-$i-$c.out") || die "no result from the updater"
		run_wrk "ng-$i-$c" "$NG${PATHS[$i]}" "$c" "$NG_PID"
		ng=$WRK_LINE
		ROWS+=("${PATHS[$i]}|$c|$sp|$ng|$upd")
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Report.
mkdir -p bench/out
OUT="bench/out/snowday-$(date -u +%Y-%m-%dT%H%M%SZ).txt"
{
	echo "Snow-day load: Signpost ${REV:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')} vs nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "Command: DURATION=$DURATION CONNECTIONS=\"$CONNECTIONS\" THREADS=$THREADS bench/snowday.sh (wrk -t$THREADS -c N -d $DURATION --latency)"
	echo "NOTE: wrk, Signpost and nginx share the same $CORES cores (and with whatever else runs here);"
	echo "      load average before $LOAD_BEFORE, after $LOAD_AFTER. Responses uncompressed (wrk sends no Accept-Encoding)."
	echo "      During each Signpost run a notice's headline changes every second (a second process writing to the database)."
	echo
	printf '%-25s %5s %10s %8s %5s %8s %8s %5s %6s %7s %7s %6s %6s\n' \
		"URL" "conns" "Signpost/s" "nginx/s" "ratio" "SP p99" "ngx p99" "p99x" "errors" "updates" "max vis" "SP cpu" "ngxcpu"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r path c sp ng upd <<<"$row"
		awk -v path="$path" -v c="$c" \
			-v srps="$(field rps "$sp")" -v nrps="$(field rps "$ng")" \
			-v sp99="$(field p99_ms "$sp")" -v np99="$(field p99_ms "$ng")" \
			-v serr="$(field errors "$sp")" -v nerr="$(field errors "$ng")" \
			-v upd="$(field updates "$upd")" -v late="$(field late "$upd")" -v unseen="$(field unseen "$upd")" \
			-v vis="$(field max_delay_ms "$upd")" \
			-v scpu="$(field cpu_us_per_req "$sp")" -v ncpu="$(field cpu_us_per_req "$ng")" 'BEGIN {
			printf "%-25s %5d %10.0f %8.0f %5.2f %8.1f %8.1f %5.2f %6s %7s %7.0f %6.0f %6.0f\n",
				path, c, srps, nrps, srps / nrps, sp99, np99, sp99 / np99,
				serr "/" nerr, upd "/" (late + unseen), vis, scpu, ncpu
		}'
	done
	echo "(ratio: Signpost/nginx req/s; p99 in ms; p99x: Signpost p99 / nginx p99;"
	echo " errors: Signpost/nginx, non-2xx/3xx + socket errors + timeouts; updates: made/missed;"
	echo " max vis: slowest update to show on the notice page and the Atom feed, ms;"
	echo " cpu: server CPU time per request in microseconds, user+system, the figure"
	echo " least disturbed by other load on the machine)"
	echo
	echo "Targets:"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r path c sp ng upd <<<"$row"
		echo "$path $c $(field rps "$sp") $(field rps "$ng") $(field p99_ms "$sp") $(field p99_ms "$ng") $(field errors "$sp") $(field updates "$upd") $(field late "$upd") $(field unseen "$upd") $(field max_delay_ms "$upd")"
	done | awk '
		function mark(ok) { return ok ? "PASS" : "FAIL" }
		{
			path = $1; c = $2; r = $3 / $4; p = $5 / $6
			if (path == "/" || path == "/feeds/notices.atom") {
				if (r < 0.8) { rfail = rfail " " path "@" c "=" sprintf("%.2f", r) }
			}
			if (p > 2) { pfail = pfail " " path "@" c "=" sprintf("%.2f", p) "x" }
			if ($7 != 0) { efail = efail " " path "@" c "=" $7 }
			updates += $8; missed += $9 + $10; if ($11 > maxvis) maxvis = $11
		}
		END {
			printf "  %s  req/s >= 0.8 x nginx for / and /feeds/notices.atom%s\n", mark(rfail == ""), rfail == "" ? "" : " (below:" rfail ")"
			printf "  %s  p99 <= 2 x nginx on every URL%s\n", mark(pfail == ""), pfail == "" ? "" : " (above:" pfail ")"
			printf "  %s  zero errors from Signpost%s\n", mark(efail == ""), efail == "" ? "" : " (" efail " )"
			printf "  %s  every update visible within 1 s (%d updates, %d missed, max %.0f ms)\n", mark(updates > 0 && missed == 0), updates, missed, maxvis
		}'
	echo
	echo "Raw results:"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r path c sp ng upd <<<"$row"
		echo "$path c=$c signpost: $sp"
		echo "$path c=$c nginx:    $ng"
		echo "$path c=$c           $upd"
	done
} | tee "$OUT"
echo "snowday: wrote $OUT" >&2
