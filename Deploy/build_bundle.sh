#!/bin/bash
# Build the release bundle: dist/photos-<version>.zip (userdata.txt fetches and installs it).
#   Deploy/build_bundle.sh [--lambda] [OUTDIR]     (OUTDIR defaults to dist/; BUNDLE_VERSION
#   overrides the version, git describe plus the time)
# Only files git tracks are packed, so a developer's app.ini, instance/ or scratch files never
# ship. With --lambda it also builds photos-<version>-lambda.zip for LabelWorker=lambda:
# FlaskApp's contents at the zip root plus the pinned dependencies for Lambda's python3.11
# x86_64, without onnxruntime/numpy and the ONNX model (the Lambda labels with Rekognition).
# Prints the path of each zip it wrote.
set -euo pipefail

lambda=false
if [[ "${1:-}" == "--lambda" ]]; then
  lambda=true
  shift
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=$(mkdir -p "${1:-$root/dist}" && cd "${1:-$root/dist}" && pwd)
cd "$root"

for required in userdata.txt requirements.txt FlaskApp Deploy SetupScripts; do
  if [[ -z "$(git ls-files -- "$required")" ]]; then
    echo "build_bundle: $required is not tracked by git" >&2
    exit 1
  fi
done

version="${BUNDLE_VERSION:-$(git describe --always --dirty)-$(date -u +%Y%m%dT%H%M%SZ)}"
[[ $version =~ ^[A-Za-z0-9._+-]+$ ]] || { echo "build_bundle: bad version '$version'" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Tracked files that exist (a deleted one is still listed until committed), minus local state.
git ls-files -z -- userdata.txt requirements.txt FlaskApp Deploy SetupScripts |
  while IFS= read -r -d '' path; do
    case "/$path" in
      */instance/* | */__pycache__/* | */app.ini | *.pyc) continue ;;
    esac
    if [[ -f "$path" ]]; then
      mkdir -p "$stage/bundle/$(dirname "$path")"
      cp -p "$path" "$stage/bundle/$path"
    fi
  done
printf '%s\n' "$version" > "$stage/bundle/VERSION"

bundle="$outdir/photos-$version.zip"
(cd "$stage/bundle" && zip -q -X -r "$bundle" .)
echo "$bundle"

if [[ "$lambda" == true ]]; then
  mkdir "$stage/lambda"
  (cd "$stage/bundle/FlaskApp" && cp -pR . "$stage/lambda/")
  rm -rf "$stage/lambda/photogallery/labelers/models"
  cp -p "$stage/bundle/VERSION" "$stage/lambda/VERSION"
  grep -viE '^(onnxruntime|numpy)([=<>!~ ;\[]|$)' requirements.txt > "$stage/lambda-requirements.txt"
  python3 -m pip install --quiet --no-compile --target "$stage/lambda" \
    --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 \
    --only-binary=:all: -r "$stage/lambda-requirements.txt"
  lambda_zip="$outdir/photos-$version-lambda.zip"
  (cd "$stage/lambda" && zip -q -X -r "$lambda_zip" .)
  echo "$lambda_zip"
fi
