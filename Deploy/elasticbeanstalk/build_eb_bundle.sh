#!/bin/bash
# Build an Elastic Beanstalk source bundle (AL2023 Python platform): dist/photos-<version>-eb.zip
#   Deploy/elasticbeanstalk/build_eb_bundle.sh [OUTDIR]
# The zip root holds application.py, Procfile, uwsgi.ini, requirements.txt (the app's pins plus
# uWSGI), .platform/ and .ebextensions/ from Deploy/elasticbeanstalk/bundle/, and FlaskApp/.
# Built from the release bundle, so the same tracked-files-only rule applies. Prints the path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=$(mkdir -p "${1:-$here/../../dist}" && cd "${1:-$here/../../dist}" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

release=$("$here/../build_bundle.sh" "$stage" | tail -n 1)
mkdir "$stage/eb"
unzip -q "$release" 'FlaskApp/*' requirements.txt VERSION -d "$stage/eb"
(cd "$here/bundle" && cp -pR . "$stage/eb/")
# EB installs requirements.txt; the Procfile needs uWSGI (the version the install test uses).
if ! grep -qiE '^uwsgi==' "$stage/eb/requirements.txt"; then
  printf '%s\n' 'uWSGI==2.0.31' >> "$stage/eb/requirements.txt"
fi

name=$(basename "$release" .zip)
eb_zip="$outdir/$name-eb.zip"
(cd "$stage/eb" && zip -q -X -r "$eb_zip" .)
echo "$eb_zip"
