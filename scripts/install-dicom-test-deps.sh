#!/usr/bin/env bash
# scripts/install-dicom-test-deps.sh — Debian packages the DICOM/Orthanc tests need, installed
# non-interactively when missing (CI runs as root on Debian 12):
#   dcmtk             dcmdump, dcmodify, dcmconv, dcmcrle, dcmdrle (independent DICOM tooling)
#   orthanc           Orthanc 1.10.1 (started per test run by scripts/services/orthanc.sh)
#   orthanc-dicomweb  DICOMweb plugin 1.7 (QIDO-RS, WADO-RS, STOW-RS)
# Usage: scripts/install-dicom-test-deps.sh      (idempotent; does nothing when all are present)
set -euo pipefail
missing=()
for pkg in dcmtk orthanc orthanc-dicomweb; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-dicom-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
