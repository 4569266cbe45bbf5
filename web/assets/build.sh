#!/usr/bin/env bash
# Builds web/static/signpost.css from src/signpost.scss (GOV.UK Frontend with
# the council font stack) and copies the few static files pages need.
# Idempotent: running it twice gives byte-identical output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../static"
cd "$here"

npm ci --no-audit --no-fund --loglevel=error

# GOV.UK Frontend 5 is written with @import and global functions, which Dart
# Sass reports as deprecated; --quiet-deps keeps those warnings (in the
# dependency, not ours) out of the build log.
npx --no-install sass \
	--no-source-map \
	--style=compressed \
	--quiet-deps \
	--silence-deprecation=import,global-builtin \
	--load-path=node_modules \
	src/signpost.scss "$out/signpost.css"

cp src/favicon.svg "$out/favicon.svg"

# A council must never ship GOV.UK's typeface or crest image: the stylesheet
# must declare no font faces and refer to no file at all (url()).
if grep -Eqi 'GDS Transport|@font-face|url\(' "$out/signpost.css"; then
	echo "build.sh: signpost.css refers to a GOV.UK-only font or image" >&2
	exit 1
fi

echo "build.sh: wrote $(wc -c <"$out/signpost.css") bytes to web/static/signpost.css"
