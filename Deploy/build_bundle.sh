#!/usr/bin/env bash
# Build the deployable bundle: dist/photos-<version>.zip with the app, Deploy/, SetupScripts/,
# requirements.txt, userdata.txt and a VERSION file. Only files git tracks are shipped, as they
# are in the working tree, so a developer's app.ini, instance/ or caches never leave the laptop.
# Usage: Deploy/build_bundle.sh [OUTDIR]   (BUNDLE_VERSION overrides the version)
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir="${1:-dist}"
version="${BUNDLE_VERSION:-$(git describe --always --dirty --tags)-$(date -u +%Y%m%d%H%M%S)}"
[[ $version =~ ^[A-Za-z0-9._+-]+$ ]] || { echo "bad version: $version" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/photos" "$out_dir"
git ls-files -z -- FlaskApp Deploy SetupScripts requirements.txt userdata.txt |
  while IFS= read -r -d '' file; do
    [ -e "$file" ] || continue  # deleted in the working tree
    mkdir -p "$stage/photos/$(dirname "$file")"
    cp -p "$file" "$stage/photos/$file"
  done
echo "$version" >"$stage/photos/VERSION"
zip_path="$(cd "$out_dir" && pwd)/photos-$version.zip"
rm -f "$zip_path"
# -X: no extra attributes, so the same tree gives the same bytes; mode bits are kept.
(cd "$stage/photos" && TZ=UTC find . -exec touch -h -d '2000-01-01 00:00:00' {} + &&
  zip -qrX "$zip_path" .)
echo "$zip_path"
